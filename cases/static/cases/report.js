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

/* Category picker in two steps on a phone: the major class first, then its minor classes.
 * Without script the single grouped select (大类 as option groups) still works. */
(function () {
  "use strict";
  var minor = document.getElementById("id_category");
  if (!minor) return;
  var groups = Array.prototype.slice.call(minor.querySelectorAll("optgroup"));
  if (groups.length < 2) return;
  var saved = groups.map(function (g) { return { label: g.label, options: g.cloneNode(true).children }; });
  var major = document.createElement("select");
  major.id = "id_major";
  major.setAttribute("aria-label", "问题大类");
  major.appendChild(new Option("请选择问题大类", ""));
  saved.forEach(function (g, i) { major.appendChild(new Option(g.label, String(i))); });
  var chosen = minor.value;
  function show(index) {
    var keep = minor.value;
    minor.textContent = "";
    minor.appendChild(new Option("请选择问题小类", ""));
    var list = index === "" ? [] : [saved[Number(index)]];
    list.forEach(function (g) {
      Array.prototype.forEach.call(g.options, function (o) { minor.appendChild(o.cloneNode(true)); });
    });
    minor.value = keep;
    minor.disabled = index === "";
  }
  saved.forEach(function (g, i) {
    Array.prototype.forEach.call(g.options, function (o) { if (o.value === chosen) major.value = String(i); });
  });
  var label = document.createElement("label");
  label.textContent = "问题大类";
  label.appendChild(major);
  minor.closest("label").before(label);
  major.addEventListener("change", function () { show(major.value); });
  show(major.value);
})();
