// The units dashboard refreshes itself (templates/leaderboards/units.html): every data-refresh-seconds, while
// the tab is visible, it fetches the same page and swaps in the new #unit-dashboard block. No inline script,
// no innerHTML: the fetched page is parsed by DOMParser and its node imported (the strict CSP allows both).
(function () {
  "use strict";
  var block = document.getElementById("unit-dashboard");
  if (!block || !window.fetch || !window.DOMParser) { return; }
  var seconds = parseInt(block.getAttribute("data-refresh-seconds"), 10) || 30;

  function refresh() {
    if (document.hidden) { return; }
    fetch(window.location.href, {credentials: "same-origin", headers: {"X-Requested-With": "fetch"}})
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (text) {
        if (!text) { return; }
        var fresh = new DOMParser().parseFromString(text, "text/html").getElementById("unit-dashboard");
        var current = document.getElementById("unit-dashboard");
        if (fresh && current) { current.replaceWith(document.importNode(fresh, true)); }
      })
      .catch(function () { /* offline for a moment: the next tick tries again */ });
  }

  window.setInterval(refresh, seconds * 1000);
  document.addEventListener("visibilitychange", function () { if (!document.hidden) { refresh(); } });
}());
