// Planning a joint action: offer the phone's position for the meeting point (it can be typed too).
(function () {
  "use strict";
  var lat = document.querySelector("input[name=lat]");
  var lng = document.querySelector("input[name=lng]");
  var status = document.querySelector(".geo-status");
  if (!lat || !lng || !navigator.geolocation || lat.value || lng.value) { return; }
  navigator.geolocation.getCurrentPosition(function (pos) {
    if (!lat.value && !lng.value) {
      lat.value = pos.coords.latitude.toFixed(6);
      lng.value = pos.coords.longitude.toFixed(6);
      if (status) { status.textContent = "已填入手机当前位置，可修改"; }
    }
  }, function () { if (status) { status.textContent = "无法获取位置，请填写坐标"; } });
}());
