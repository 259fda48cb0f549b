/* 签到/签退: the phone's position goes with the form; without it the step still goes through (no distance). */
document.querySelectorAll("form[data-position]").forEach(function (form) {
  form.addEventListener("submit", function (event) {
    if (form.dataset.located || !navigator.geolocation) { return; }
    event.preventDefault();
    var done = function () { form.dataset.located = "1"; form.submit(); };
    navigator.geolocation.getCurrentPosition(function (p) {
      form.querySelector("[name=lat]").value = p.coords.latitude.toFixed(6);
      form.querySelector("[name=lng]").value = p.coords.longitude.toFixed(6);
      done();
    }, done, {enableHighAccuracy: true, timeout: 10000});
  });
});
