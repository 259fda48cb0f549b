#!/usr/bin/env bash
# Fetch the browser libraries kept in the repository, once, from the npm registry (no Node at run
# time: the files are committed and served by Django's static files; `make demo` needs no network).
#   ECharts (Apache-2.0)  -> dashboards/static/vendor/echarts/   (the charts)
#   axe-core (MPL-2.0)    -> dashboards/tests/vendor/axe-core/   (the accessibility audit, tests only)
# Run `make vendor-js` after changing a version below, then commit the files.
set -euo pipefail
cd "$(dirname "$0")"
ECHARTS_VERSION=6.1.0
AXE_VERSION=4.14.1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "echarts@$ECHARTS_VERSION" "axe-core@$AXE_VERSION" >/dev/null)
tar -xzf "$work/echarts-$ECHARTS_VERSION.tgz" -C "$work" && mv "$work/package" "$work/echarts"
tar -xzf "$work/axe-core-$AXE_VERSION.tgz" -C "$work" && mv "$work/package" "$work/axe"
cp "$work/echarts/dist/echarts.min.js" "$work/echarts/LICENSE" "$work/echarts/NOTICE" static/vendor/echarts/
echo "$ECHARTS_VERSION" >static/vendor/echarts/VERSION
cp "$work/axe/axe.min.js" "$work/axe/LICENSE" tests/vendor/axe-core/
echo "$AXE_VERSION" >tests/vendor/axe-core/VERSION
