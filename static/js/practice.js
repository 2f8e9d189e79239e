/* Practice page: the countdown of a timed session. The server owns time (it refuses late answers and finishes
 * the session at its deadline); this only shows what is left and reloads when the time is up, so the page shows
 * the summary the server decided. No inline script: loaded as a static file. */
(function () {
  "use strict";
  var timer = document.getElementById("practice-timer");
  if (!timer) { return; }
  var left = Number(timer.getAttribute("data-remaining-ms")) || 0;
  var end = Date.now() + left;
  var format = (window.ceNumbers && window.ceNumbers.duration) || function (ms) { return String(Math.floor(ms / 1000)); };
  function tick() {
    var ms = Math.max(0, end - Date.now());
    timer.textContent = format(ms);
    if (ms <= 0) {
      // A little after the deadline (the server's grace), so the reload sees the finished session.
      window.setTimeout(function () { window.location.reload(); }, 6000);
      return;
    }
    window.setTimeout(tick, 1000 - ((end - Date.now()) % 1000 + 1000) % 1000 || 1000);
  }
  tick();
})();
