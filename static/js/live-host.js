/* The host's control page (data-role="host", ws/live/<id>/host/) and the presenter screen for the projector
 * (data-role="screen", ws/live/<id>/screen/). The server authorises every control; this page only offers the
 * buttons that make sense in the current phase. Neither page ever receives an answer before its reveal. */
(function () {
  "use strict";
  var root = document.getElementById("live");
  if (!root || !window.ceLive) return;
  var L = window.ceLive, _ = L._, fmt = window.ceNumbers;
  var role = root.getAttribute("data-role");
  var $ = function (id) { return document.getElementById(id); };
  var T = {
    lobby: _("Phòng chờ"), question: _("Đang trả lời"), reveal: _("Công bố đáp án"), finished: _("Đã kết thúc"),
    paused: _("Tạm dừng"), confirmEnd: _("Kết thúc trò chơi? Câu đang mở (nếu có) sẽ được chấm ngay."),
    done: _("Đã thực hiện."), answered: _("đã trả lời"), correct: _("Đáp án đúng"), people: _("người"),
    rescued: _("Số người được cứu trợ:")
  };
  var state = { phase: "lobby", position: 0, count: 0, paused: false, question: null, stopTimer: null, stats: {} };

  function count(n) { return fmt ? fmt.count(n) : String(n); }
  function text(id, value) { var node = $(id); if (node) node.textContent = value; }

  function setPhase(phase, paused) {
    state.phase = phase; state.paused = !!paused;
    text("lv-phase", paused ? T.paused : (T[phase] || phase));
    root.setAttribute("data-phase", phase);
    var pause = $("lv-paused"); if (pause) pause.hidden = !paused;
    if (role === "host") {
      var more = state.position < state.count;
      $("lh-start").disabled = phase !== "lobby";
      $("lh-next").disabled = phase !== "reveal" || !more;
      $("lh-reveal").disabled = phase !== "question";
      $("lh-pause").disabled = phase !== "question" || paused;
      $("lh-resume").disabled = phase !== "question" || !paused;
      $("lh-end").disabled = phase === "finished";
      var rescue = $("lh-rescue"); if (rescue) rescue.disabled = phase !== "reveal";
      $("lh-results").hidden = phase !== "finished";
    }
    ["lv-lobby", "lv-question", "lv-reveal", "lv-final"].forEach(function (id) {
      var node = $(id); if (!node) return;
      node.hidden = id !== "lv-" + (phase === "finished" ? "final" : phase);
    });
  }

  function setStats(stats) {
    state.stats = Object.assign(state.stats, stats || {});
    var s = state.stats;
    if (s.players !== undefined) text("lv-players", count(s.players));
    if (s.active !== undefined) text("lv-active", count(s.active));
    text("lv-answered", s.answered === null || s.answered === undefined ? "–" : count(s.answered));
    var names = $("lv-names");
    if (names && s.names) {
      L.clear(names);
      s.names.forEach(function (name) { names.appendChild(L.el("li", null, name)); });
    }
  }

  function renderOptions(container, question, reveal) {
    L.clear(container);
    var dist = (reveal && reveal.distribution) || {};
    var total = 0;
    Object.keys(dist).forEach(function (k) { total += dist[k]; });
    question.options.forEach(function (option, index) {
      var item = L.el("li", "live-option opt-" + index);
      item.appendChild(L.el("span", "letter", L.letter(index)));
      item.appendChild(L.el("span", "text", option.text));
      if (reveal) {
        var n = dist[String(option.id)] || 0;
        var right = reveal.correct.indexOf(option.id) >= 0;
        item.classList.add(right ? "is-correct" : "is-wrong");
        if (right) {
          var mark = L.el("span", "mark", "✓");
          mark.appendChild(L.el("span", "visually-hidden", " " + T.correct));
          item.appendChild(mark);
        }
        var bar = L.el("span", "bar"), fill = L.el("span", "bar-fill");
        fill.style.width = (total ? Math.round(100 * n / total) : 0) + "%";  // CSSOM, not a style attribute
        bar.appendChild(fill);
        item.appendChild(bar);
        item.appendChild(L.el("span", "count", count(n)));
      }
      container.appendChild(item);
    });
  }

  function renderQuestion(q, deadlineMs) {
    state.question = q; state.position = q.position;
    text("lv-pos", String(q.position)); text("lv-count", String(state.count));
    L.lines($("lv-stem"), q.lines);
    renderOptions($("lv-options"), q, null);
    if (state.stopTimer) state.stopTimer();
    state.stopTimer = deadlineMs ? L.countdown($("lv-timer"), deadlineMs) : null;
  }

  function renderReveal(r) {
    if (state.stopTimer) state.stopTimer();
    if (r.question) { state.question = r.question; L.lines($("lv-reveal-stem"), r.question.lines); }
    text("lv-reveal-pos", String(r.position));
    renderOptions($("lv-reveal-options"), state.question, r);
    text("lv-reveal-answered", count(r.answered) + "/" + count(r.in_game) + " " + T.answered);
    text("lv-explanation", r.explanation || "");
    text("lv-citation", r.citation || "");
    L.topList($("lv-top"), r.top);
  }

  function renderFinal(top) {
    if (state.stopTimer) state.stopTimer();
    L.topList($("lv-final-top"), top);
  }

  var socket = L.connect(root.getAttribute("data-ws-url"), {
    state: function (s) { L.showState($("lv-conn"), s); },
    "live.snapshot": function (msg) {
      state.count = msg.count; state.position = msg.position;
      setStats(msg.stats || { players: msg.players, active: msg.active });
      if (msg.question) renderQuestion(msg.question, msg.paused ? null : msg.deadline_ms);
      if (msg.reveal) renderReveal(msg.reveal);
      if (msg.top) renderFinal(msg.top);
      setPhase(msg.phase, msg.paused);
    },
    "live.stats": setStats,
    "live.question": function (msg) {
      state.count = msg.count;
      renderQuestion(msg.question, msg.deadline_ms);
      setStats({ answered: 0 });
      setPhase("question", false);
    },
    "live.paused": function () { if (state.stopTimer) state.stopTimer(); setPhase("question", true); },
    "live.resumed": function (msg) {
      if (state.stopTimer) state.stopTimer();
      state.stopTimer = L.countdown($("lv-timer"), msg.deadline_ms);
      setPhase("question", false);
    },
    "live.reveal": function (msg) {
      renderReveal(msg);
      setStats({ active: msg.active, players: msg.players });
      setPhase("reveal", false);
    },
    "live.rescued": function (msg) { setStats({ active: msg.active }); text("lv-message", T.rescued + " " + count(msg.rescued)); },
    "live.finished": function (msg) { renderFinal(msg.top); setPhase("finished", false); },
    "live.done": function () { text("lv-message", T.done); },
    error: function (msg) { text("lv-message", msg.message); }
  });

  if (role !== "host") return;
  function control(type, extra) {
    text("lv-message", "");
    socket.send(Object.assign({ type: type }, extra || {}));
  }
  $("lh-start").addEventListener("click", function () { control("start"); });
  $("lh-next").addEventListener("click", function () { control("next"); });
  $("lh-reveal").addEventListener("click", function () { control("reveal"); });
  $("lh-pause").addEventListener("click", function () { control("pause"); });
  $("lh-resume").addEventListener("click", function () { control("resume"); });
  $("lh-end").addEventListener("click", function () { if (window.confirm(T.confirmEnd)) control("end"); });
  var rescue = $("lh-rescue");
  if (rescue) {
    rescue.addEventListener("click", function () {
      var kind = $("lh-rescue-kind").value;
      if (kind === "question") control("rescue", { kind: kind, position: Number($("lh-rescue-position").value) });
      else control("rescue", { kind: kind, count: Number($("lh-rescue-count").value) });
    });
  }
})();
