/* The appeal forms' location picker: a Leaflet map (when available) and the browser's position.
 * Its settings come from the data attributes of #pick-map (map centre, tile URL, attribution). */
(function () {
  "use strict";
  var lat = document.getElementById("id_lat"), lng = document.getElementById("id_lng");
  var where = document.getElementById("where"), mapBox = document.getElementById("pick-map");
  if (!lat || !lng || !where || !mapBox) { return; }
  var marker = null, map = null;
  function set(la, ln) {
    lat.value = la.toFixed(6); lng.value = ln.toFixed(6);
    where.textContent = "已选位置 " + lat.value + ", " + lng.value;
    if (map) { if (marker) { marker.setLatLng([la, ln]); } else { marker = L.marker([la, ln]).addTo(map); } }
  }
  if (window.L) {
    mapBox.hidden = false;
    map = L.map(mapBox).setView([parseFloat(mapBox.dataset.lat), parseFloat(mapBox.dataset.lng)], 14);
    if (mapBox.dataset.tileUrl) {
      L.tileLayer(mapBox.dataset.tileUrl, {attribution: mapBox.dataset.attribution || ""}).addTo(map);
    }
    map.on("click", function (e) { set(e.latlng.lat, e.latlng.lng); });
    if (lat.value && lng.value) { set(parseFloat(lat.value), parseFloat(lng.value)); }
  }
  document.getElementById("locate").addEventListener("click", function () {
    if (!navigator.geolocation) { where.textContent = "此浏览器不支持定位，请在地图上选点或填写地址"; return; }
    where.textContent = "正在定位…";
    navigator.geolocation.getCurrentPosition(function (p) {
      set(p.coords.latitude, p.coords.longitude);
      if (map) { map.setView([p.coords.latitude, p.coords.longitude], 17); }
    }, function () { where.textContent = "定位失败，请在地图上选点或填写地址"; }, {enableHighAccuracy: true, timeout: 15000});
  });
})();
