/* Live leaderboard: snapshot on connect, then throttled versioned updates (ws/leaderboards/<round>/).
   Plain DOM, no library. Older versions are ignored; a dropped socket reconnects with backoff and the
   snapshot it receives resynchronises the board. Scores, ranks and durations are shown with the project's
   one number rule (static/js/numbers.js, the twin of contest_engine/numbers.py), so a pushed row reads
   exactly like the server-rendered one. */
(function () {
  "use strict";
  var root = document.getElementById("live-board");
  if (!root || !window.WebSocket || !window.ceNumbers) { return; }
  var num = window.ceNumbers;
  var tbody = document.getElementById("board-rows");
  var mine = document.getElementById("my-rank");
  var status = document.getElementById("board-status");
  var version = -1;
  var delay = 1000;
  var myUser = root.dataset.user ? parseInt(root.dataset.user, 10) : null;

  function cell(text) { var td = document.createElement("td"); td.textContent = text; return td; }

  function render(rows) {
    if (!tbody) { return; }
    var frag = document.createDocumentFragment();
    rows.forEach(function (r) {
      var tr = document.createElement("tr");
      if (myUser !== null && r.user_id === myUser) { tr.className = "me"; }
      tr.appendChild(cell(num.count(r.rank)));
      tr.appendChild(cell(r.name));
      tr.appendChild(cell(num.score(r.score)));
      tr.appendChild(cell(num.duration(r.duration_ms)));
      frag.appendChild(tr);
    });
    tbody.replaceChildren(frag);
  }

  function connect() {
    var proto = location.protocol === "https:" ? "wss://" : "ws://";
    var ws = new WebSocket(proto + location.host + root.dataset.ws);
    ws.onopen = function () { delay = 1000; if (status) { status.textContent = ""; } };
    ws.onmessage = function (e) {
      var msg = JSON.parse(e.data);
      if (msg.type === "leaderboard.snapshot" || msg.type === "leaderboard.update") {
        if (msg.version < version && msg.type === "leaderboard.update") { return; }
        version = msg.version;
        render(msg.rows);
        if (myUser !== null) { ws.send(JSON.stringify({type: "rank.get"})); }
      } else if (msg.type === "leaderboard.rank" && mine) {
        if (msg.me) {
          myUser = msg.me.user_id;
          mine.hidden = false;
          mine.textContent = (mine.dataset.label || "") + " " + num.count(msg.me.rank) + " (" +
            num.score(msg.me.score) + ")";
        }
      } else if (msg.type === "leaderboard.hidden") {
        setTimeout(function () { if (ws.readyState === 1) { ws.send(JSON.stringify({type: "snapshot.get"})); } }, 60000);
      }
    };
    ws.onclose = function (e) {
      if (e.code === 4404) { return; }
      if (status) { status.textContent = "…"; }
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    };
  }
  connect();
})();
