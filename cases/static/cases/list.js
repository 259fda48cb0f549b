/* Case list: the unit menu holds only the chosen unit; this searches the others on demand
 * (the units API, limited to the person's scope) and puts the picked one into the menu. */
(function () {
  "use strict";
  var select = document.querySelector("select[data-unit-search]");
  var input = document.querySelector(".unit-search"), list = document.getElementById("unit-options");
  if (!select || !input || !list || !window.fetch) return;
  input.hidden = false;
  var found = {}, timer = null;
  function search() {
    var q = input.value.trim();
    if (!q || found[q]) return;
    fetch(select.dataset.unitSearch + "?limit=20&q=" + encodeURIComponent(q), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : { items: [] }; })
      .then(function (body) {
        list.textContent = "";
        (body.items || []).forEach(function (u) {
          found[u.name] = u.id;
          var o = document.createElement("option");
          o.value = u.name;
          list.appendChild(o);
        });
      });
  }
  input.addEventListener("input", function () {
    var id = found[input.value];
    if (id) {
      var o = select.querySelector('option[value="' + id + '"]');
      if (!o) { o = document.createElement("option"); o.value = id; o.textContent = input.value; select.appendChild(o); }
      select.value = String(id);
      return;
    }
    clearTimeout(timer); timer = setTimeout(search, 250);
  });
})();
