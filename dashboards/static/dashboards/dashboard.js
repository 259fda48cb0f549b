/* 数据看板: fetch the charts of the viewer's scope and draw each, with its numbers as a table. */
(function () {
  "use strict";
  var root = document.getElementById("charts"), status = document.getElementById("charts-status");
  var drawn = [];

  function card(chart) {
    var section = document.createElement("section"), h = document.createElement("h2");
    var id = "chart-" + chart.key;
    section.className = "card chart-card";
    section.setAttribute("aria-labelledby", id + "-title");
    h.id = id + "-title";
    h.textContent = chart.title;
    section.appendChild(h);
    if (chart.note) { var note = document.createElement("p"); note.className = "muted"; note.textContent = chart.note; section.appendChild(note); }
    var box = document.createElement("div");
    box.className = "chart" + (chart.horizontal ? " tall" : "");
    box.id = id;
    section.appendChild(box);
    var details = document.createElement("details"), summary = document.createElement("summary");
    summary.textContent = "查看数据";
    details.appendChild(summary);
    var wrap = document.createElement("div");
    wrap.className = "table-wrap";
    wrap.appendChild(DashCharts.table(chart));
    details.appendChild(wrap);
    section.appendChild(details);
    root.appendChild(section);
    if (!chart.categories.length) {
      box.className = "chart empty";
      box.textContent = "暂无数据";
      return;
    }
    drawn.push(DashCharts.draw(box, chart));
  }

  fetch(root.dataset.source, { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (r) { return r.json().then(function (body) { return { ok: r.ok, body: body }; }); })
    .then(function (res) {
      if (!res.ok) { status.textContent = res.body.detail || "看板数据加载失败"; return; }
      res.body.charts.forEach(card);
      var at = new Date(res.body.at);
      status.textContent = "数据截至 " + at.toLocaleString("zh-CN", { hour12: false });
    })
    .catch(function () { status.textContent = "看板数据加载失败，请刷新页面重试"; });

  var timer = null;
  window.addEventListener("resize", function () {
    clearTimeout(timer);
    timer = setTimeout(function () { drawn.forEach(function (c) { c.resize(); }); }, 150);
  });
})();
