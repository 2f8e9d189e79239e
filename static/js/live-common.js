/* What the live-game pages share (protocol: docs/protocol.md, "Live games"). Vanilla JS, no build step, no
 * innerHTML: every element is built with createElement and textContent (the server sends the question as lines
 * of plain text for that reason).
 *
 * ceLive.connect(path, handlers) keeps one socket open: reconnects with backoff (not after 4001/4401/4403/
 * 4408/4410), pings every 15 s to estimate the server clock (the countdown is the server's deadline minus the
 * server's time), and asks for a fresh snapshot when an event's "v" skips one (it missed something).
 */
(function () {
  "use strict";
  var _ = window.gettext || function (text) { return text; };
  var NO_RECONNECT = { 4001: true, 4401: true, 4403: true, 4408: true, 4410: true };
  var offset = 0, bestRtt = Infinity;

  function serverNow() { return Date.now() + offset; }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

  function letter(index) { return "ABCDEFGHIJ".charAt(index); }

  function lines(container, textLines) {
    clear(container);
    (textLines || []).forEach(function (line) { container.appendChild(el("p", null, line)); });
  }

  function seconds(ms) { return Math.max(0, Math.ceil(ms / 1000)); }

  function countdown(node, deadlineMs, onEnd) {
    var timer = null;
    function tick() {
      var left = deadlineMs - serverNow();
      node.textContent = String(seconds(left));
      node.setAttribute("datetime", "PT" + seconds(left) + "S");
      if (left <= 0) { window.clearInterval(timer); timer = null; if (onEnd) onEnd(); }
    }
    tick();
    timer = window.setInterval(tick, 200);
    return function stop() { if (timer) window.clearInterval(timer); timer = null; };
  }

  function connect(path, handlers) {
    var ws = null, backoff = 500, lastV = null, stopped = false, pingTimer = null;
    var url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + path;

    function send(message) {
      if (ws && ws.readyState === 1) { ws.send(JSON.stringify(message)); return true; }
      return false;
    }
    function ping() { send({ type: "ping", t: Date.now() }); }

    function open() {
      ws = new WebSocket(url);
      if (handlers.state) handlers.state("connecting");
      ws.onopen = function () { backoff = 500; ping(); pingTimer = window.setInterval(ping, 15000); };
      ws.onmessage = function (event) {
        var msg;
        try { msg = JSON.parse(event.data); } catch (e) { return; }
        if (msg.type === "pong") {
          var rtt = Date.now() - msg.t;
          if (rtt < bestRtt) { bestRtt = rtt; offset = msg.server_time_ms - (msg.t + rtt / 2); }
          return;
        }
        if (msg.type === "live.snapshot") {
          if (bestRtt === Infinity) offset = msg.server_time_ms - Date.now();
          lastV = msg.v;
          if (handlers.state) handlers.state("online");
        } else if (typeof msg.v === "number" && msg.type.indexOf("live.") === 0 && msg.type !== "live.done") {
          if (lastV !== null && msg.v > lastV + 1) { send({ type: "resync" }); }
          if (lastV === null || msg.v > lastV) lastV = msg.v;
        }
        var handler = handlers[msg.type];
        if (handler) handler(msg);
        else if (handlers.other) handlers.other(msg);
      };
      ws.onclose = function (event) {
        window.clearInterval(pingTimer);
        if (stopped) return;
        if (NO_RECONNECT[event.code]) { if (handlers.closed) handlers.closed(event.code); return; }
        if (handlers.state) handlers.state("offline");
        var wait = backoff + Math.random() * 300;
        backoff = Math.min(backoff * 2, 15000);
        window.setTimeout(open, wait);
      };
    }
    open();
    return { send: send, stop: function () { stopped = true; if (ws) ws.close(); } };
  }

  var STATES = { connecting: _("Đang kết nối…"), online: _("Đã kết nối"),
                 offline: _("Mất kết nối — đang thử kết nối lại…") };

  function showState(node, state) {
    node.textContent = STATES[state] || "";
    node.className = "conn conn-" + state;
  }

  function topList(node, rows) {
    clear(node);
    var fmt = window.ceNumbers;
    (rows || []).forEach(function (row) {
      var item = el("li", row.status === "eliminated" ? "is-out" : "");
      item.appendChild(el("span", "rank", String(row.rank)));
      item.appendChild(el("span", "name", row.name));
      item.appendChild(el("span", "score", fmt ? fmt.score(row.score) : row.score));
      node.appendChild(item);
    });
  }

  window.ceLive = { connect: connect, serverNow: serverNow, el: el, clear: clear, letter: letter, lines: lines,
                    countdown: countdown, showState: showState, topList: topList, _: _ };
})();
