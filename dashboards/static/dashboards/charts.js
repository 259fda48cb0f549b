/* Drawing one chart of the dashboards' JSON with ECharts (served from this site's static files).
 * A chart is {key, title, categories, series: [{name, kind, stack, unit, data: [{value, url}]}],
 * horizontal, note}; every data point that has a url opens it when clicked. */
(function () {
  "use strict";

  var PALETTE = ["#c8102e", "#1f6feb", "#1a7f37", "#9a6700", "#8250df", "#57606a"];

  function option(chart, dark) {
    var ink = dark ? "#e6edf3" : "#1f2328";
    var grid = dark ? "#30363d" : "#d0d7de";
    var units = chart.series.map(function (s) { return s.unit; });
    var twoAxes = units.indexOf("%") >= 0 && units.some(function (u) { return u !== "%"; });
    var category = { type: "category", data: chart.categories, axisLabel: { color: ink, interval: 0, hideOverlap: true }, axisLine: { lineStyle: { color: grid } } };
    function valueAxis(unit) {
      return { type: "value", name: unit, nameTextStyle: { color: ink }, axisLabel: { color: ink }, splitLine: { lineStyle: { color: grid } }, max: unit === "%" ? 100 : null, minInterval: unit === "%" ? 0 : 1 };
    }
    var values = twoAxes ? [valueAxis("件"), valueAxis("%")] : [valueAxis(units[0] || "件")];
    var series = chart.series.map(function (s) {
      return {
        name: s.name,
        type: s.kind === "line" ? "line" : "bar",
        stack: s.stack || undefined,
        connectNulls: false,
        symbolSize: 8,
        barMaxWidth: 28,
        cursor: "pointer",
        yAxisIndex: !chart.horizontal && twoAxes && s.unit === "%" ? 1 : 0,
        tooltip: { valueFormatter: function (v) { return v === null || v === undefined ? "无数据" : v + (s.unit === "%" ? "%" : " 件"); } },
        data: s.data.map(function (p) { return { value: p.value, url: p.url }; })
      };
    });
    return {
      color: PALETTE,
      animation: false,
      aria: { enabled: true, label: { description: chart.title } },
      textStyle: { fontFamily: "system-ui, 'PingFang SC', 'Microsoft YaHei', 'Noto Sans CJK SC', sans-serif" },
      tooltip: { trigger: "axis", confine: true },
      legend: chart.series.length > 1 ? { top: 0, textStyle: { color: ink } } : undefined,
      grid: { left: 8, right: 16, top: chart.series.length > 1 ? 32 : 16, bottom: 8, containLabel: true },
      xAxis: chart.horizontal ? values[0] : category,
      yAxis: chart.horizontal ? category : values,
      series: series
    };
  }

  function draw(el, chart, opts) {
    opts = opts || {};
    var instance = echarts.getInstanceByDom(el) || echarts.init(el, null, { renderer: "svg" });
    instance.setOption(option(chart, opts.dark), true);
    if (opts.links !== false) {
      instance.off("click");
      instance.on("click", function (p) { if (p.data && p.data.url) window.location.href = p.data.url; });
    }
    return instance;
  }

  function cell(tag, text) { var c = document.createElement(tag); c.textContent = text; return c; }

  /* The chart's numbers as a table of links (for keyboards, screen readers and small screens). */
  function table(chart) {
    var t = document.createElement("table"), head = document.createElement("tr"), body = document.createElement("tbody");
    var caption = cell("caption", chart.title);
    caption.className = "visually-hidden";
    t.appendChild(caption);
    var th = cell("th", ""); th.scope = "col"; head.appendChild(th);
    chart.series.forEach(function (s) { var h = cell("th", s.name + (s.unit === "%" ? "（%）" : "")); h.scope = "col"; h.className = "num"; head.appendChild(h); });
    var thead = document.createElement("thead"); thead.appendChild(head); t.appendChild(thead);
    chart.categories.forEach(function (label, i) {
      var row = document.createElement("tr"), first = cell("th", label);
      first.scope = "row";
      row.appendChild(first);
      chart.series.forEach(function (s) {
        var p = s.data[i], td = document.createElement("td");
        td.className = "num";
        var text = p.value === null || p.value === undefined ? "无数据" : String(p.value);
        if (p.url) { var a = cell("a", text); a.href = p.url; td.appendChild(a); } else { td.textContent = text; }
        row.appendChild(td);
      });
      body.appendChild(row);
    });
    t.appendChild(body);
    return t;
  }

  window.DashCharts = { draw: draw, table: table, option: option };
})();
