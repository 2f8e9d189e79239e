// The units dashboard's live numbers (templates/leaderboards/units.html, leaderboards/services/unit_push.py).
// While its WebSocket (data-socket) is open the server pushes each unit's numbers, coalesced to about one push
// a second, as text already written in the one number rule: the cells, bars and row order follow them. A unit
// the page has no row for yet means the page itself is fetched again once. While the socket is down (or before
// it opens) the page fetches itself every data-refresh-seconds as before, while the tab is visible. No inline
// script, no innerHTML: a fetched page is parsed by DOMParser and its node imported (the strict CSP allows both).
(function () {
  "use strict";
  var first = document.getElementById("unit-dashboard");
  if (!first || !window.fetch || !window.DOMParser) { return; }
  var seconds = parseInt(first.getAttribute("data-refresh-seconds"), 10) || 30;
  var order = first.getAttribute("data-order") || "entrants";
  var path = first.getAttribute("data-socket");
  var live = false;        // the socket is open and has sent its snapshot
  var lastVersion = 0;
  var delay = 1000;

  function block() { return document.getElementById("unit-dashboard"); }

  function showMode() {
    var b = block();
    if (!b) { return; }
    var on = b.querySelector("#unit-live");
    var off = b.querySelector("#unit-polling");
    if (on) { on.hidden = !live; }
    if (off) { off.hidden = live; }
  }

  function refetch() {
    fetch(window.location.href, {credentials: "same-origin", headers: {"X-Requested-With": "fetch"}})
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (text) {
        if (!text) { return; }
        var fresh = new DOMParser().parseFromString(text, "text/html").getElementById("unit-dashboard");
        var current = block();
        if (fresh && current) { current.replaceWith(document.importNode(fresh, true)); showMode(); }
      })
      .catch(function () { /* offline for a moment: the next tick tries again */ });
  }

  function poll() {
    if (live || document.hidden) { return; }
    refetch();
  }

  function apply(msg) {
    var b = block();
    if (!b || !msg.units) { return; }
    var table = b.querySelector("#unit-table tbody");
    var chart = b.querySelector(".unit-chart");
    var missing = false;
    msg.units.forEach(function (u) {
      var row = table ? table.querySelector("tr[data-unit='" + u.unit_id + "']") : null;
      var bar = chart ? chart.querySelector(".bar-row[data-unit='" + u.unit_id + "']") : null;
      if (!row || !bar) { missing = true; return; }
      Object.keys(u.text).forEach(function (field) {
        var cell = row.querySelector("[data-f='" + field + "']") || bar.querySelector("[data-f='" + field + "']");
        if (cell && cell.textContent !== u.text[field]) { cell.textContent = u.text[field]; }
      });
      var rect = bar.querySelector("rect");
      if (rect) { rect.setAttribute("width", String(u.bar)); }
    });
    if (missing || (table && table.querySelectorAll("tr[data-unit]").length !== msg.units.length)) {
      refetch();  // a unit appeared or went: the server renders the new rows
      return;
    }
    (msg.orders[order] || []).forEach(function (id) {  // re-append in the pushed order: rows move, none is rebuilt
      var row = table.querySelector("tr[data-unit='" + id + "']");
      var bar = chart.querySelector(".bar-row[data-unit='" + id + "']");
      if (row) { table.appendChild(row); }
      if (bar) { chart.appendChild(bar); }
    });
    var updated = b.querySelector("#unit-updated");
    if (updated && msg.updated) { updated.textContent = msg.updated; }
  }

  function connect() {
    if (!path || !window.WebSocket) { return; }
    var proto = location.protocol === "https:" ? "wss://" : "ws://";
    var ws = new WebSocket(proto + location.host + path);
    ws.onmessage = function (e) {
      var msg;
      try { msg = JSON.parse(e.data); } catch (err) { return; }
      if (msg.type !== "units.snapshot" && msg.type !== "units.update") { return; }
      if (msg.type === "units.update" && msg.v < lastVersion) { return; }
      lastVersion = msg.v;
      delay = 1000;
      live = true;
      showMode();
      apply(msg);
    };
    ws.onclose = function (e) {
      live = false;
      showMode();
      if (e.code === 4404) { return; }  // not this viewer's dashboard: the periodic fetch stays
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    };
  }

  window.setInterval(poll, seconds * 1000);
  document.addEventListener("visibilitychange", function () { if (!document.hidden && !live) { refetch(); } });
  connect();
}());
