// 后台导入任务: ask the job's state every second while it runs; move the progress bar and say the
// stage (a live region announces it); reload the page when the job has finished.
(function () {
  "use strict";
  var box = document.getElementById("import-job");
  if (!box || box.dataset.running !== "true") return;
  var bar = document.getElementById("import-progress");
  var stage = document.getElementById("import-stage");
  function poll() {
    fetch(box.dataset.statusUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (job) {
        if (!job) { window.setTimeout(poll, 3000); return; }
        if (!job.running) { window.location.reload(); return; }
        bar.value = job.progress;
        bar.textContent = job.progress + "%";
        stage.textContent = job.state_label + "：" + job.stage;
        window.setTimeout(poll, 1000);
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 1000);
})();
