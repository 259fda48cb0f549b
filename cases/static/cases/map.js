/* Case maps: pins for cases, and a point picker for the report page.
 * Coordinates are stored in WGS-84. Tiles from AMap or Tencent are drawn in GCJ-02, so points are
 * shifted for display and shifted back when picked (MAP_TILE_CRS = "gcj02"). Without a tile URL,
 * or offline, the map still draws the pins and the lat/lng inputs keep working. */
(function () {
  "use strict";

  // WGS-84 <-> GCJ-02, the published conversion (Krasovsky ellipsoid); identity outside China.
  var A = 6378245.0, EE = 0.00669342162296594323;
  function outside(lat, lng) { return lng < 72.004 || lng > 137.8347 || lat < 0.8293 || lat > 55.8271; }
  function tLat(x, y) {
    var r = -100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
    r += (20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2 / 3;
    r += (20 * Math.sin(y * Math.PI) + 40 * Math.sin(y / 3 * Math.PI)) * 2 / 3;
    return r + (160 * Math.sin(y / 12 * Math.PI) + 320 * Math.sin(y * Math.PI / 30)) * 2 / 3;
  }
  function tLng(x, y) {
    var r = 300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
    r += (20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2 / 3;
    r += (20 * Math.sin(x * Math.PI) + 40 * Math.sin(x / 3 * Math.PI)) * 2 / 3;
    return r + (150 * Math.sin(x / 12 * Math.PI) + 300 * Math.sin(x / 30 * Math.PI)) * 2 / 3;
  }
  function toGcj(lat, lng) {
    if (outside(lat, lng)) return [lat, lng];
    var dLat = tLat(lng - 105, lat - 35), dLng = tLng(lng - 105, lat - 35);
    var rad = lat / 180 * Math.PI, magic = 1 - EE * Math.sin(rad) * Math.sin(rad), sq = Math.sqrt(magic);
    dLat = dLat * 180 / ((A * (1 - EE)) / (magic * sq) * Math.PI);
    dLng = dLng * 180 / (A / sq * Math.cos(rad) * Math.PI);
    return [lat + dLat, lng + dLng];
  }
  function fromGcj(lat, lng) {  // iterate the forward shift until it lands on the picked point
    var w = [lat, lng];
    for (var i = 0; i < 10; i++) {
      var g = toGcj(w[0], w[1]);
      w = [w[0] + lat - g[0], w[1] + lng - g[1]];
    }
    return w;
  }
  window.CaseMap = { toGcj: toGcj, fromGcj: fromGcj };

  function json(id) { var el = document.getElementById(id); return el ? JSON.parse(el.textContent) : null; }

  function pin(p, at) {
    var m = L.circleMarker(at, { radius: 8, color: "#9e0c24", fillColor: "#c8102e", fillOpacity: 0.8 });
    if (p.url) m.bindPopup('<a href="' + p.url + '">' + String(p.label).replace(/[<>&]/g, "") + "</a>");
    return m;
  }

  // The cases (or grid clusters) in the view from the map endpoint, fetched again when the view
  // moves. At most 500 items come back for any view; a cluster zooms in when tapped.
  function follow(map, el, show, back) {
    var layer = L.layerGroup().addTo(map), status = document.getElementById(el.dataset.status || "");
    var timer = null, pending = null, asked = 0;
    function say(text) { if (status) status.textContent = text; }
    function load() {
      var b = map.getBounds(), sw = back(b.getSouth(), b.getWest()), ne = back(b.getNorth(), b.getEast());
      var bbox = [Math.max(sw[1], -180), Math.max(sw[0], -90), Math.min(ne[1], 180), Math.min(ne[0], 90)]
        .map(function (v) { return v.toFixed(6); }).join(",");
      var url = el.dataset.source + (el.dataset.source.indexOf("?") < 0 ? "?" : "&") +
        "bbox=" + bbox + "&zoom=" + Math.round(map.getZoom());
      var mine = ++asked;
      if (pending && pending.abort) pending.abort();
      pending = window.AbortController ? new AbortController() : null;
      say("正在加载地图案件…");
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" }, signal: pending && pending.signal })
        .then(function (r) { return r.json().then(function (body) { return { ok: r.ok, body: body }; }); })
        .then(function (res) {
          if (mine !== asked) return;
          if (!res.ok) { say(res.body.detail || "地图加载失败"); return; }
          layer.clearLayers();
          res.body.items.forEach(function (it) {
            var at = show(it.lat, it.lng);
            if (res.body.mode === "points") { pin(it, at).addTo(layer); return; }
            var size = 24 + Math.min(24, Math.round(Math.log(it.count) * 4));
            L.marker(at, { icon: L.divIcon({ className: "map-cluster", html: "<span>" + it.count + "</span>", iconSize: [size, size] }) })
              .on("click", function () { map.setView(at, Math.min(map.getZoom() + 2, 18)); })
              .addTo(layer);
          });
          say(res.body.mode === "points" ? "视野内 " + res.body.total + " 件" : "视野内 " + res.body.total + " 件（已按网格聚合，点击放大）");
        })
        .catch(function (e) { if (e.name !== "AbortError") say("地图加载失败"); });
    }
    map.on("moveend", function () { clearTimeout(timer); timer = setTimeout(load, 250); });
    load();
  }

  function draw(el) {
    if (typeof L === "undefined") { el.classList.add("map-off"); return; }
    var cfg = json("map-config") || {}, gcj = cfg.crs === "gcj02";
    var show = gcj ? toGcj : function (a, b) { return [a, b]; };
    var back = gcj ? fromGcj : function (a, b) { return [a, b]; };
    var map = L.map(el, { attributionControl: !!cfg.attribution });
    if (cfg.tiles) L.tileLayer(cfg.tiles, { attribution: cfg.attribution, maxZoom: 18 }).addTo(map);
    var pins = json(el.dataset.pins) || [], bounds = [];
    pins.forEach(function (p) {
      var at = show(p.lat, p.lng);
      // With a source, the pins of the page only choose the first view; the source draws.
      if (!el.dataset.source) pin(p, at).addTo(map);
      bounds.push(at);
    });
    if (bounds.length > 1) map.fitBounds(bounds, { padding: [20, 20], maxZoom: 17 });
    else map.setView(bounds[0] || show(cfg.center[0], cfg.center[1]), bounds.length ? 17 : 14);
    if (el.dataset.source) follow(map, el, show, back);

    if (!el.dataset.pick) return;
    var lat = document.getElementById(el.dataset.pick + "lat"), lng = document.getElementById(el.dataset.pick + "lng");
    var marker = null;
    function place(moveView) {
      var a = parseFloat(lat.value), b = parseFloat(lng.value);
      if (isNaN(a) || isNaN(b)) return;
      var at = show(a, b);
      if (marker) marker.setLatLng(at); else marker = L.marker(at, { icon: L.divIcon({ className: "pick-pin" }) }).addTo(map);
      if (moveView) map.setView(at, Math.max(map.getZoom(), 16));
    }
    map.on("click", function (e) {
      var w = back(e.latlng.lat, e.latlng.lng);
      lat.value = w[0].toFixed(6); lng.value = w[1].toFixed(6);
      place(false);
      lat.dispatchEvent(new Event("change", { bubbles: true }));
    });
    lat.addEventListener("input", function () { place(true); });
    lng.addEventListener("input", function () { place(true); });
    lat.addEventListener("change", function () { place(false); });
    place(true);
  }

  function locate(button) {
    var prefix = button.dataset.locate, status = document.getElementById(prefix + "gps-status");
    button.addEventListener("click", function () {
      if (!navigator.geolocation) { status.textContent = "此浏览器不支持定位，请在地图上点选位置"; return; }
      status.textContent = "正在定位…";
      navigator.geolocation.getCurrentPosition(function (pos) {
        var lat = document.getElementById(prefix + "lat"), lng = document.getElementById(prefix + "lng");
        lat.value = pos.coords.latitude.toFixed(6); lng.value = pos.coords.longitude.toFixed(6);
        status.textContent = "已定位（精度约 " + Math.round(pos.coords.accuracy) + " 米）";
        lat.dispatchEvent(new Event("input", { bubbles: true }));
        lat.dispatchEvent(new Event("change", { bubbles: true }));
      }, function () { status.textContent = "定位失败，请在地图上点选位置或手工填写"; }, { enableHighAccuracy: true, timeout: 15000 });
    });
  }

  document.querySelectorAll("[data-map]").forEach(draw);
  document.querySelectorAll("[data-locate]").forEach(locate);
})();
