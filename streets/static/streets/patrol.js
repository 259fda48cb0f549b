// The patrol pages: fill each form's position from the phone, and record the track while the
// page is open. Track points wait in localStorage until the server has them, so a lost
// connection loses nothing; the server skips points it already has, so resending is harmless.
(function () {
  "use strict";
  var statusLines = document.querySelectorAll(".geo-status");
  function say(text) { statusLines.forEach(function (el) { el.textContent = text; }); }
  var last = null;

  function fill(pos) {
    last = pos;
    document.querySelectorAll("form.geo-form").forEach(function (form) {
      form.querySelector("input[name=lat]").value = pos.coords.latitude.toFixed(6);
      form.querySelector("input[name=lng]").value = pos.coords.longitude.toFixed(6);
      form.querySelectorAll("button").forEach(function (b) { b.disabled = false; });
    });
  }

  if (!navigator.geolocation) { say("此设备无法定位，不能巡查"); return; }
  navigator.geolocation.watchPosition(function (pos) { fill(pos); say("已定位（精度约 " + Math.round(pos.coords.accuracy) + " 米）"); },
    function () { say("无法获取位置，请允许定位后刷新"); }, { enableHighAccuracy: true, maximumAge: 10000 });

  var tracker = document.getElementById("tracker");
  if (!tracker) { return; }
  var key = tracker.dataset.key;
  var token = tracker.querySelector("input[name=csrfmiddlewaretoken]").value;
  function buffer() { try { return JSON.parse(localStorage.getItem(key) || "[]"); } catch (e) { return []; } }
  function keep(points) { localStorage.setItem(key, JSON.stringify(points)); }

  function flush() {
    var points = buffer();
    if (!points.length) { return; }
    fetch(tracker.dataset.url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token },
      body: JSON.stringify({ points: points.slice(0, 500) })
    }).then(function (r) {
      if (r.ok) { keep(buffer().slice(Math.min(points.length, 500))); say("轨迹已同步"); }
      else if (r.status === 409 || r.status === 403) { localStorage.removeItem(key); }
      else { say("轨迹暂存在手机上，联网后自动上传"); }
    }).catch(function () { say("轨迹暂存在手机上，联网后自动上传"); });
  }

  setInterval(function () {
    if (last) {
      var points = buffer();
      points.push({ at: new Date().toISOString(), lat: last.coords.latitude.toFixed(6), lng: last.coords.longitude.toFixed(6) });
      keep(points);
    }
    flush();
  }, 30000);
  flush();
}());
