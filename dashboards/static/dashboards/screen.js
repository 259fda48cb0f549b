/* 指挥中心大屏: fetch the screen's figures every minute (no page reload) with the display token
 * from the address's "#token=…" part (never sent to the server as part of the address), or the
 * signed-in session when there is none. */
(function () {
  "use strict";
  var REFRESH_MS = 60000;
  var root = document.getElementById("screen"), status = document.getElementById("screen-status");
  var token = new URLSearchParams(window.location.hash.replace(/^#/, "")).get("token") || "";
  var cfg = JSON.parse(document.getElementById("map-config").textContent);
  var gcj = cfg.crs === "gcj02" && window.CaseMap;
  function show(lat, lng) { return gcj ? window.CaseMap.toGcj(lat, lng) : [lat, lng]; }

  var map = L.map("screen-map", { zoomControl: false, attributionControl: !!cfg.attribution, keyboard: false });
  if (cfg.attribution) map.attributionControl.setPrefix(false);
  if (cfg.tiles) L.tileLayer(cfg.tiles, { attribution: cfg.attribution, maxZoom: 18 }).addTo(map);
  map.setView(show(cfg.center[0], cfg.center[1]), 11);
  var layer = L.layerGroup().addTo(map);
  var weekly = null, fitted = false;

  function list(id, items, text) {
    var ol = document.getElementById(id);
    ol.textContent = "";
    items.forEach(function (it) { var li = document.createElement("li"); li.textContent = text(it); ol.appendChild(li); });
    if (!items.length) { var li = document.createElement("li"); li.className = "none"; li.textContent = "暂无"; ol.appendChild(li); }
  }

  function render(data) {
    Object.keys(data.headline).forEach(function (k) {
      var el = root.querySelector('[data-field="' + k + '"]');
      if (el) el.textContent = data.headline[k];
    });
    layer.clearLayers();
    var bounds = [];
    data.areas.forEach(function (a) {
      var late = a.overdue > 0;
      // The street's outline, tinted by its state, under its circle.
      if (a.boundary && a.boundary.length > 2) {
        var ring = a.boundary.map(function (p) { return show(p[1], p[0]); });
        L.polygon(ring, {
          color: late ? "#ff7b72" : "#58a6ff", weight: 1.5, fillColor: late ? "#da3633" : "#1f6feb", fillOpacity: 0.12,
          interactive: false
        }).addTo(layer);
        ring.forEach(function (p) { bounds.push(p); });
      }
      if (a.lat === null || a.lng === null) return;
      var at = show(a.lat, a.lng);
      bounds.push(at);
      L.circleMarker(at, {
        radius: 8 + Math.min(30, Math.sqrt(a.open) * 3),
        color: late ? "#ff7b72" : "#58a6ff", fillColor: late ? "#da3633" : "#1f6feb", fillOpacity: 0.55, weight: 2
      }).bindTooltip(a.name + "：未结 " + a.open + "，超期 " + a.overdue, { direction: "top" }).addTo(layer);
      // The overdue count (or the open count, in blue) written on the circle; names are in the rankings.
      L.marker(at, {
        icon: L.divIcon({ className: "area-count" + (late ? " late" : ""), html: String(late ? a.overdue : a.open), iconSize: [48, 24] }),
        interactive: false, keyboard: false
      }).addTo(layer);
    });
    if (bounds.length && !fitted) { map.fitBounds(bounds, { padding: [60, 60], maxZoom: 13 }); fitted = true; }
    list("area-ranking", data.areas.filter(function (a) { return a.overdue > 0; }).slice(0, 8), function (a) { return a.name + "　" + a.overdue + " 件"; });
    list("unit-ranking", data.unit_ranking.slice(0, 8), function (u) { return u.name + "　" + u.overdue + " 件"; });
    list("warnings", data.warnings, function (w) {
      return w.number + " " + w.category + (w.area ? "（" + w.area + "）" : "") + " 已超期 " + w.hours + " 小时";
    });
    weekly = DashCharts.draw(document.getElementById("screen-weekly"), data.weekly, { dark: true, links: false });
    status.textContent = "数据截至 " + new Date(data.at).toLocaleString("zh-CN", { hour12: false }) + "，每分钟自动刷新";
  }

  function load() {
    var headers = { Accept: "application/json" };
    if (token) headers.Authorization = "Bearer " + token;
    fetch(root.dataset.source, { credentials: token ? "omit" : "same-origin", headers: headers })
      .then(function (r) { return r.json().then(function (body) { return { ok: r.ok, status: r.status, body: body }; }); })
      .then(function (res) {
        if (res.status === 401 || res.status === 403) { status.textContent = "大屏令牌无效或已吊销，请联系创文办重新生成大屏地址"; return; }
        if (!res.ok) { status.textContent = (res.body && res.body.detail) || "数据加载失败，稍后自动重试"; return; }
        render(res.body);
      })
      .catch(function () { status.textContent = "网络中断，稍后自动重试"; });
  }

  load();
  setInterval(load, REFRESH_MS);
  window.addEventListener("resize", function () { if (weekly) weekly.resize(); map.invalidateSize(); });
})();
