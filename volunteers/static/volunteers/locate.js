(function () {
  var button = document.getElementById("locate"), where = document.getElementById("where");
  if (!button) { return; }
  button.addEventListener("click", function () {
    if (!navigator.geolocation) { where.textContent = "此浏览器不支持定位"; return; }
    where.textContent = "正在定位…";
    navigator.geolocation.getCurrentPosition(function (p) {
      document.getElementById("id_lat").value = p.coords.latitude.toFixed(6);
      document.getElementById("id_lng").value = p.coords.longitude.toFixed(6);
      where.textContent = "已定位";
    }, function () { where.textContent = "定位失败，请填写服务地点"; }, {enableHighAccuracy: true, timeout: 15000});
  });
})();
