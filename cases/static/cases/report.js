/* Report page: before submitting, list open cases of the same category nearby (possible duplicates). */
(function () {
  "use strict";
  var form = document.getElementById("report-form");
  if (!form) return;
  var box = document.getElementById("duplicates"), url = form.dataset.duplicates;
  function check() {
    var c = form.elements.category.value, lat = form.elements.lat.value, lng = form.elements.lng.value;
    if (!c || !lat || !lng) { box.hidden = true; return; }
    fetch(url + "?" + new URLSearchParams({ category: c, lat: lat, lng: lng }), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : { results: [] }; })
      .then(function (data) {
        var list = box.querySelector("ul");
        list.textContent = "";
        data.results.forEach(function (d) {
          var li = document.createElement("li"), a = document.createElement("a");
          a.href = d.url; a.textContent = d.number; li.appendChild(a);
          li.appendChild(document.createTextNode(" " + d.status + " " + (d.address || "")));
          list.appendChild(li);
        });
        box.hidden = data.results.length === 0;
      })
      .catch(function () { box.hidden = true; });
  }
  form.addEventListener("change", function (e) {
    if (["category", "lat", "lng"].indexOf(e.target.name) >= 0) check();
  });
})();
