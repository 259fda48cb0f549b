/* The phone form of an inspection: check in by GPS, keep the draft in localStorage until the
   server has it, and send it with fetch so a lost connection leaves the form (and its photos)
   in place to send again. The submission id (uid) stays the same across retries, so the
   server stores it once however often it arrives. */
(function () {
  "use strict";
  var form = document.getElementById("inspection-form");
  if (!form) return;
  var key = form.dataset.draftKey;
  var status = form.querySelector("[data-draft-status]");
  var gps = form.querySelector("[data-gps]");
  var sending = false;

  function say(text) { if (status) status.textContent = text; }

  function fields() {
    return Array.prototype.filter.call(form.elements, function (el) {
      return el.name && el.type !== "file" && el.name !== "csrfmiddlewaretoken";
    });
  }

  function save() {
    var draft = {};
    fields().forEach(function (el) {
      if (el.type === "radio") { if (el.checked) draft[el.name] = el.value; }
      else draft[el.name] = el.value;
    });
    try { localStorage.setItem(key, JSON.stringify(draft)); say("草稿已保存在本机（照片需在提交前保持选中）"); }
    catch (e) { say("本机无法保存草稿"); }
  }

  function restore() {
    var draft;
    try { draft = JSON.parse(localStorage.getItem(key) || "null"); } catch (e) { draft = null; }
    if (!draft) return;
    fields().forEach(function (el) {
      if (!(el.name in draft)) return;
      if (el.type === "radio") el.checked = draft[el.name] === el.value;
      else if (el.name !== "lat" && el.name !== "lng" || !el.value) el.value = draft[el.name];
    });
    say("已恢复本机保存的草稿");
  }

  function mark() {
    form.querySelectorAll("[data-line]").forEach(function (line) {
      var failed = line.querySelector('input[type=radio][value=fail]:checked');
      line.classList.toggle("fail", !!failed);
    });
  }

  function distance(lat1, lng1, lat2, lng2) {
    var r = 6371008.8, rad = Math.PI / 180;
    var dlat = (lat2 - lat1) * rad, dlng = (lng2 - lng1) * rad;
    var a = Math.sin(dlat / 2) * Math.sin(dlat / 2) +
      Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dlng / 2) * Math.sin(dlng / 2);
    return 2 * r * Math.asin(Math.sqrt(a));
  }

  function locate() {
    if (!navigator.geolocation) { gps.textContent = "本设备不支持定位，提交后将标记为未签到"; return; }
    navigator.geolocation.getCurrentPosition(function (pos) {
      form.elements.lat.value = pos.coords.latitude.toFixed(6);
      form.elements.lng.value = pos.coords.longitude.toFixed(6);
      var text = "已定位（精度约 " + Math.round(pos.coords.accuracy) + " 米）";
      var slat = parseFloat(form.dataset.siteLat), slng = parseFloat(form.dataset.siteLng);
      if (!isNaN(slat) && !isNaN(slng)) {
        var d = distance(pos.coords.latitude, pos.coords.longitude, slat, slng);
        text += "，距点位 " + Math.round(d) + " 米" + (d > parseFloat(form.dataset.radius) ? "（超出签到范围，将被标记）" : "");
      }
      gps.textContent = text;
      save();
    }, function () { gps.textContent = "未能定位，提交后将标记为未签到"; }, { enableHighAccuracy: true, timeout: 15000 });
  }

  function send(event) {
    event.preventDefault();
    if (sending) return;
    if (!form.reportValidity()) return;
    sending = true;
    save();
    say("正在提交…");
    fetch(form.action || location.href, { method: "POST", body: new FormData(form), credentials: "same-origin" })
      .then(function (response) {
        if (response.redirected) {
          localStorage.removeItem(key);
          location.href = response.url;
          return;
        }
        return response.text().then(function (html) {
          document.open(); document.write(html); document.close();
        });
      })
      .catch(function () {
        say("网络中断：检查内容已保存在本机，恢复网络后将自动重新提交（不会重复记录）");
      })
      .then(function () { sending = false; });
  }

  form.elements.device.value = navigator.userAgent.slice(0, 200);
  restore();
  mark();
  form.addEventListener("change", function () { mark(); save(); });
  form.addEventListener("input", save);
  form.addEventListener("submit", send);
  window.addEventListener("online", function () {
    if (localStorage.getItem(key) && status.textContent.indexOf("网络中断") === 0) form.requestSubmit();
  });
  locate();
})();
