/* The player's phone page of a live game (ws/live/<id>/play/). One answer per question, sent at the first tap
 * (multiple choice: after "Gửi"); "recorded" only when the server's ack arrives; an answer not acknowledged
 * before the connection dropped is sent again after the reconnect (the server answers "duplicate" if it had it).
 * The server decides whether an answer was in time; the countdown only shows the server's deadline. */
(function () {
  "use strict";
  var root = document.getElementById("live");
  if (!root || !window.ceLive) return;
  var L = window.ceLive, _ = L._, fmt = window.ceNumbers;
  var T = {
    sending: _("Đang gửi câu trả lời…"), recorded: _("Đã ghi nhận câu trả lời của bạn."),
    send: _("Gửi câu trả lời"), right: _("Chính xác!"), wrong: _("Chưa đúng."), none: _("Bạn chưa trả lời câu này."),
    points: _("điểm"), answer: _("Đáp án đúng:"), out: _("Bạn đã bị loại ở câu"), watch: _("Hãy theo dõi tiếp các câu hỏi."),
    rescued: _("Bạn được cứu trợ — tiếp tục thi!"), finalRank: _("Hạng của bạn:"), of: _("trên"),
    replaced: _("Trò chơi đã được mở ở một cửa sổ hoặc thiết bị khác."), here: _("Tiếp tục ở đây"),
    notPlayer: _("Bạn chưa tham gia trò chơi này."), joinAgain: _("Nhập mã PIN để tham gia"),
    waitNext: _("Chờ câu hỏi tiếp theo…"), lateJoin: _("Bạn vào muộn: hãy chờ câu hỏi tiếp theo."),
    question: _("Câu"), finished: _("Trò chơi đã kết thúc.")
  };
  var $ = function (id) { return document.getElementById(id); };
  var sections = ["lv-lobby", "lv-question", "lv-reveal", "lv-final"];
  var state = { position: 0, count: 0, you: null, question: null, answered: null, pending: null, selected: [],
                stopTimer: null, mode: root.getAttribute("data-mode") };

  function show(id) { sections.forEach(function (s) { $(s).hidden = s !== id; }); }
  function say(text) { $("lv-status").textContent = text || ""; }
  function setYou(you) {
    if (!you) return;
    state.you = Object.assign(state.you || {}, you);
    if (state.you.name) $("lv-name").textContent = state.you.name;
    $("lv-score").textContent = fmt ? fmt.score(state.you.score) : state.you.score;
    $("lv-rank").textContent = state.you.rank ? String(state.you.rank) : "–";
    root.classList.toggle("is-eliminated", state.you.status === "eliminated");
  }
  function inGame() {
    return state.you && state.you.status === "active" && (state.you.first_position || 1) <= state.position;
  }

  function renderQuestion(q, deadlineMs) {
    state.question = q; state.position = q.position; state.selected = [];
    $("lv-pos").textContent = String(q.position);
    $("lv-count").textContent = String(state.count);
    L.lines($("lv-stem"), q.lines);
    var box = $("lv-options"); L.clear(box);
    q.options.forEach(function (option, index) {
      var button = L.el("button", "live-option opt-" + index);
      button.type = "button";
      button.setAttribute("data-id", String(option.id));
      button.setAttribute("aria-pressed", "false");
      button.appendChild(L.el("span", "letter", L.letter(index)));
      button.appendChild(L.el("span", "text", option.text));
      button.addEventListener("click", function () { choose(option.id, button); });
      box.appendChild(button);
    });
    var submit = $("lv-submit");
    submit.hidden = q.type !== "multiple";
    submit.disabled = true;
    if (state.stopTimer) state.stopTimer();
    state.stopTimer = deadlineMs ? L.countdown($("lv-timer"), deadlineMs, lock) : null;
    show("lv-question");
    if (!inGame()) {
      lock();
      say(state.you && state.you.status === "eliminated" ? T.out + " " + state.you.eliminated_at + ". " + T.watch
          : T.lateJoin);
    } else {
      say("");
    }
  }

  function lock() {
    Array.prototype.forEach.call($("lv-options").children, function (b) { b.disabled = true; });
    $("lv-submit").disabled = true;
  }

  function markChosen(ids) {
    Array.prototype.forEach.call($("lv-options").children, function (b) {
      var chosen = ids.indexOf(Number(b.getAttribute("data-id"))) >= 0;
      b.classList.toggle("is-chosen", chosen);
      b.setAttribute("aria-pressed", chosen ? "true" : "false");
    });
  }

  function choose(id, button) {
    if (state.answered || state.pending || !inGame()) return;
    if (state.question.type === "multiple") {
      var at = state.selected.indexOf(id);
      if (at >= 0) state.selected.splice(at, 1); else state.selected.push(id);
      markChosen(state.selected);
      $("lv-submit").disabled = state.selected.length === 0;
      return;
    }
    send([id]);
  }

  function send(ids) {
    state.pending = { position: state.position, options: ids.slice() };
    markChosen(ids); lock();
    say(T.sending);
    socket.send({ type: "answer", position: state.position, options: ids });
  }

  $("lv-submit").addEventListener("click", function () { if (state.selected.length) send(state.selected); });

  function renderReveal(msg) {
    if (state.stopTimer) state.stopTimer();
    var you = msg.you;
    setYou(you);
    var verdict = $("lv-verdict");
    if (you && you.ok === true) {
      verdict.textContent = T.right + (you.points ? " +" + (fmt ? fmt.score(you.points) : you.points) + " " + T.points : "");
      verdict.className = "verdict is-right";
    } else if (you && you.ok === false) {
      verdict.textContent = T.wrong; verdict.className = "verdict is-wrong";
    } else {
      verdict.textContent = T.none; verdict.className = "verdict";
    }
    var options = (msg.question && msg.question.options) || [];
    var right = options.map(function (o, i) { return msg.correct.indexOf(o.id) >= 0 ? L.letter(i) + ". " + o.text : null; })
      .filter(Boolean);
    $("lv-correct").textContent = T.answer + " " + right.join("; ");
    $("lv-explanation").textContent = msg.explanation || "";
    $("lv-citation").textContent = msg.citation || "";
    $("lv-out").textContent = state.you && state.you.status === "eliminated"
      ? T.out + " " + state.you.eliminated_at + ". " + T.watch : "";
    L.topList($("lv-top"), msg.top);
    state.answered = null; state.pending = null;
    show("lv-reveal");
    say(msg.last ? "" : T.waitNext);
  }

  function renderFinal(top) {
    if (state.stopTimer) state.stopTimer();
    $("lv-final-rank").textContent = state.you && state.you.rank ? T.finalRank + " " + state.you.rank : "";
    L.topList($("lv-final-top"), top);
    show("lv-final");
    say(T.finished);
  }

  var socket = L.connect(root.getAttribute("data-ws-url"), {
    state: function (s) { L.showState($("lv-conn"), s); },
    "live.snapshot": function (msg) {
      state.count = msg.count; state.position = msg.position;
      setYou(msg.you);
      $("lv-paused").hidden = !msg.paused;
      if (msg.phase === "lobby") { show("lv-lobby"); return; }
      if (msg.phase === "finished") { renderFinal(msg.top); return; }
      if (msg.phase === "question" && msg.question) {
        var answered = msg.you && msg.you.answered;
        var pending = state.pending && state.pending.position === msg.position ? state.pending : null;
        state.answered = answered ? msg.position : null;
        renderQuestion(msg.question, msg.deadline_ms);
        if (answered) { markChosen(answered); lock(); say(T.recorded); state.pending = null; }
        else if (pending && inGame()) { send(pending.options); }  // the ack was lost with the connection
        if (msg.paused) lock();
        return;
      }
      if (msg.reveal) renderReveal(Object.assign({}, msg.reveal, { you: msg.you }));
    },
    "live.question": function (msg) {
      state.count = msg.count; state.answered = null; state.pending = null;
      $("lv-paused").hidden = true;
      renderQuestion(msg.question, msg.deadline_ms);
    },
    "live.ack": function (msg) {
      if (!state.pending || msg.position !== state.pending.position) return;
      state.answered = msg.position; state.pending = null;
      say(T.recorded);
    },
    "live.paused": function () { $("lv-paused").hidden = false; lock(); if (state.stopTimer) state.stopTimer(); },
    "live.resumed": function (msg) {
      $("lv-paused").hidden = true;
      if (state.question && !state.answered && !state.pending && inGame()) {
        Array.prototype.forEach.call($("lv-options").children, function (b) { b.disabled = false; });
      }
      if (state.stopTimer) state.stopTimer();
      state.stopTimer = L.countdown($("lv-timer"), msg.deadline_ms, lock);
    },
    "live.reveal": renderReveal,
    "live.rescued": function (msg) { if (msg.you) { setYou(msg.you); say(T.rescued); $("lv-out").textContent = ""; } },
    "live.finished": function (msg) { setYou(msg.you); renderFinal(msg.top); },
    error: function (msg) {
      if (msg.position && state.pending && msg.position === state.pending.position) {
        var retry = msg.code === "storage_unavailable";
        if (!retry) state.pending = null;
        if (retry) { window.setTimeout(function () { if (state.pending) send(state.pending.options); }, 1000); }
      }
      say(msg.message);
    },
    closed: function (code) {
      var box = $("lv-status"); L.clear(box);
      if (code === 4001) {
        box.appendChild(L.el("span", null, T.replaced + " "));
        var again = L.el("button", "primary", T.here); again.type = "button";
        again.addEventListener("click", function () { window.location.reload(); });
        box.appendChild(again);
      } else if (code === 4403) {
        box.appendChild(L.el("span", null, T.notPlayer + " "));
        var link = L.el("a", null, T.joinAgain); link.href = root.getAttribute("data-join-url");
        box.appendChild(link);
      }
    }
  });
})();
