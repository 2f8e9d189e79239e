/* An export job's page: polls the job's status URL until it is done or failed, and shows its progress.
 * Moved out of templates/exports/job.html so the page needs no inline script (Content-Security-Policy,
 * docs/operations.md). The page says whether to poll at all (data-finished) and where (data-status-url). */
(function () {
  "use strict";
  var box = document.getElementById("export-status");
  if (!box) { return; }
  var url = box.dataset.statusUrl;
  function show(s) {
    document.getElementById("export-label").textContent = s.status_label;
    document.getElementById("export-rows").textContent = s.progress;
    document.getElementById("export-total").textContent = s.total;
    document.getElementById("export-progress").value = s.percent;
    if (s.download_url) {
      document.getElementById("export-download-link").href = s.download_url;
      document.getElementById("export-download").hidden = false;
    }
    if (s.error) {
      var e = document.getElementById("export-error");
      e.textContent = s.error; e.hidden = false;
    }
    return s.status === "done" || s.status === "failed";
  }
  function poll() {
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.json(); })
      .then(function (s) { if (!show(s)) { setTimeout(poll, 1500); } })
      .catch(function () { setTimeout(poll, 5000); });
  }
  if (box.dataset.finished !== "true") { poll(); }
})();
