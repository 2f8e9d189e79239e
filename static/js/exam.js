/* Exam client for ws/attempts/<id>/ — protocol in docs/protocol.md. Vanilla JS, no build step.
 *
 * Rules it keeps:
 * - the server owns time: the countdown is the server's deadline minus the server's clock, estimated from
 *   ping/pong (NTP-style offset); the browser never decides that time is up;
 * - an answer is "saved" only when the server's ack for its seq (or a later one) arrives; until then it is
 *   kept in localStorage and resent after every reconnect, so a reload or a dropped network loses nothing;
 * - seq grows per attempt across reloads (stored with the pending answers, and never below the server's
 *   last_seq from the snapshot).
 */
(function () {
  "use strict";

  var root = document.getElementById("exam");
  if (!root) return;

  // Texts go through Django's JavaScript catalog (/jsi18n/) when the page loaded it; Vietnamese otherwise.
  var _ = window.gettext || function (text) { return text; };
  var T = {
    connecting: _("Đang kết nối…"),
    online: _("Đã kết nối"),
    offline: _("Mất kết nối — đang thử kết nối lại…"),
    offlineShort: _("Mất kết nối"),
    saved: _("Đã lưu"),
    unsaved: _("Chưa lưu"),
    saving: _("Đang lưu…"),
    rejected: _("Không được ghi nhận"),
    question: _("Câu"),
    of: _("trên"),
    allSaved: _("Tất cả câu trả lời đã được lưu."),
    answerSaved: _("Đã lưu câu trả lời câu "),
    fiveMin: _("Còn 5 phút."),
    oneMin: _("Còn 1 phút."),
    expired: _("Đã hết giờ làm bài. Hệ thống đang nộp bài…"),
    confirm: _("Bạn chắc chắn muốn nộp bài? Sau khi nộp không thể sửa câu trả lời."),
    unanswered: _("Còn {n} câu chưa trả lời."),
    pendingWait: _("Đang chờ lưu các câu trả lời cuối cùng…"),
    replaced: _("Bài thi đang được mở ở cửa sổ hoặc thiết bị khác."),
    takeOver: _("Tiếp tục làm bài ở cửa sổ này"),
    submitted: _("Đã nộp bài. Đang chuyển đến trang kết quả…"),
    submitting: _("Đang nộp bài…"),
    predictionLabel: _("Câu hỏi dự đoán: theo bạn, có bao nhiêu"),
    predictionHelp: _("Nhập một số nguyên không âm."),
    answerPlaceholder: _("Nhập câu trả lời"),
    multipleHint: _("Chọn một hoặc nhiều đáp án"),
    tooLong: _("Câu trả lời quá dài, chưa gửi được — hãy rút gọn."),
    loginAgain: _("Phiên đăng nhập đã hết hạn. Đang chuyển đến trang đăng nhập…"),
    notFound: _("Không tìm thấy bài thi."),
  };

  var attemptId = root.getAttribute("data-attempt-id");
  var wsPath = root.getAttribute("data-ws-url");
  var resultUrl = root.getAttribute("data-result-url");
  var loginUrl = root.getAttribute("data-login-url");
  var storeKey = "ce.exam." + attemptId;

  var el = function (id) { return document.getElementById(id); };
  var timerEl = el("exam-timer"), connEl = el("exam-conn"), progressEl = el("exam-progress");
  var statusEl = el("exam-status"), alertEl = el("exam-alert"), form = el("exam-form");
  var questionsEl = el("exam-questions"), submitBtn = el("exam-submit"), pager = el("exam-pager");

  // ---- persistent client state ---------------------------------------------------------------
  function load() {
    try {
      var s = JSON.parse(localStorage.getItem(storeKey) || "null");
      if (s && typeof s.seq === "number" && s.pending) return s;
    } catch (e) { /* corrupt or unavailable storage: start clean */ }
    return { seq: 0, pending: {}, prediction: null };
  }
  var state = load();
  function persist() {
    try { localStorage.setItem(storeKey, JSON.stringify(state)); } catch (e) { /* private mode: memory only */ }
  }
  function nextSeq() { state.seq += 1; persist(); return state.seq; }

  // ---- runtime state ---------------------------------------------------------------------------
  var ws = null, backoff = 500, reconnectTimer = null, pingTimer = null, stopped = false;
  var offset = 0, bestRtt = Infinity;        // server clock = Date.now() + offset
  var deadline = null, expired = false, warned5 = false, warned1 = false;
  var questions = [];                          // [{position, type, stem, options: [{id, text}]}] as released
  var saved = {};                              // position -> {response, seq} acknowledged by the server
  var questionCount = 0, allReleased = false;
  // A submit is kept until its attempt.submitted arrives: resent after an error that is not final, after a
  // reconnect, and when no reply came within SUBMIT_PATIENCE_MS (a storm of submits at the round's end may
  // make the reply slow; the resend is idempotent on the server). The page says "Đang nộp bài…" meanwhile.
  var submitSeq = 0, submitTimer = null, SUBMIT_PATIENCE_MS = 20000;
  var rendered = false, submitting = false, presentation = root.getAttribute("data-presentation");
  var allowChange = true;  // the round's rule; when false a saved answer is final and its inputs are locked

  function say(text) { statusEl.textContent = ""; window.setTimeout(function () { statusEl.textContent = text; }, 50); }
  function alertMsg(text) { alertEl.hidden = !text; alertEl.textContent = text || ""; }
  function setConn(kind, text) { connEl.className = "conn conn-" + kind; connEl.textContent = text; }

  // ---- socket ----------------------------------------------------------------------------------
  function wsUrl() {
    if (/^wss?:/.test(wsPath)) return wsPath;
    return (location.protocol === "https:" ? "wss://" : "ws://") + location.host + wsPath;
  }

  function connect() {
    if (stopped) return;
    clearTimeout(reconnectTimer);
    setConn("connecting", T.connecting);
    try { ws = new WebSocket(wsUrl()); } catch (e) { scheduleReconnect(); return; }
    ws.onopen = function () { backoff = 500; setConn("online", T.online); ping(); flushEvidence(); };
    ws.onmessage = function (ev) {
      var msg;
      try { msg = JSON.parse(ev.data); } catch (e) { return; }
      handle(msg);
    };
    ws.onclose = function (ev) { ws = null; clearInterval(pingTimer); onClose(ev.code); };
    ws.onerror = function () { /* onclose follows */ };
  }

  function send(obj) {
    if (ws && ws.readyState === 1) { ws.send(JSON.stringify(obj)); return true; }
    return false;
  }

  // docs/protocol.md, Limits: a frame over 8 KB gets frame_too_large, and one over the ASGI server's limit is
  // refused by the server (Daphne drops the connection): such an answer is never sent, and never kept.
  var MAX_FRAME_BYTES = 8192;
  function fits(obj) { return new TextEncoder().encode(JSON.stringify(obj)).length <= MAX_FRAME_BYTES; }

  function scheduleReconnect() {
    if (stopped) return;
    setConn("offline", T.offline);
    var wait = Math.min(15000, backoff) * (0.5 + Math.random() / 2);
    backoff = Math.min(15000, backoff * 2);
    reconnectTimer = setTimeout(connect, wait);
  }

  function onClose(code) {
    if (code === 4410) { goToResult(); return; }
    if (code === 4401) { stopped = true; alertMsg(T.loginAgain); setTimeout(function () { location.href = loginUrl; }, 1500); return; }
    if (code === 4403) { stopped = true; setConn("offline", T.offlineShort); alertMsg(T.notFound); return; }
    if (code === 4001) { stopped = true; setConn("offline", T.offlineShort); showReplaced(); return; }
    scheduleReconnect();
  }

  function showReplaced() {
    alertMsg(T.replaced);
    var b = document.createElement("button");
    b.type = "button"; b.textContent = T.takeOver; b.className = "primary";
    b.addEventListener("click", function () { alertMsg(""); stopped = false; connect(); });
    alertEl.appendChild(document.createTextNode(" ")); alertEl.appendChild(b);
  }

  function ping() {
    send({ type: "ping", t: Date.now() });
    clearInterval(pingTimer);
    pingTimer = setInterval(function () { send({ type: "ping", t: Date.now() }); }, 20000);
  }

  // ---- incoming --------------------------------------------------------------------------------
  function handle(msg) {
    switch (msg.type) {
      case "attempt.snapshot": onSnapshot(msg); break;
      case "ack": onAck(msg); break;
      case "pong": onPong(msg); break;
      case "error": onError(msg); break;
      case "attempt.expired": onExpired(); break;
      case "attempt.submitted": onSubmitted(msg); break;
      case "question.released": onReleased(msg); break;
      case "session.replaced": stopped = true; break;  // the close (4001) that follows shows the notice
      default: break;  // unknown types are ignored so the server can add new ones
    }
  }

  function onPong(msg) {
    if (typeof msg.t !== "number" || typeof msg.server_time_ms !== "number") return;
    var now = Date.now(), rtt = now - msg.t;
    // Keep the estimate from the fastest round trip: its midpoint is the least uncertain.
    if (rtt <= bestRtt) {
      bestRtt = rtt;
      offset = msg.server_time_ms - (msg.t + rtt / 2);
    }
  }

  function onSnapshot(msg) {
    if (typeof msg.server_time_ms === "number" && bestRtt === Infinity) offset = msg.server_time_ms - Date.now();
    deadline = typeof msg.deadline_ms === "number" ? msg.deadline_ms : (msg.deadline ? Date.parse(msg.deadline) : null);
    if (msg.presentation) presentation = msg.presentation;
    allowChange = msg.allow_answer_change !== false;
    questionCount = msg.question_count || (msg.questions || []).length;
    var known = {};
    questions.forEach(function (q) { known[q.position] = true; });
    (msg.questions || []).forEach(function (q) { if (!known[q.position]) questions.push(q); });
    if (typeof msg.last_seq === "number" && msg.last_seq > state.seq) { state.seq = msg.last_seq; persist(); }
    var answers = msg.answers || {};
    saved = {};
    Object.keys(answers).forEach(function (pos) { saved[pos] = answers[pos]; });
    render(msg);
    // Server answers first, then our unacknowledged newer ones on top (and resend those).
    Object.keys(answers).forEach(function (pos) {
      var p = state.pending[pos];
      if (p && p.seq <= answers[pos].seq) { delete state.pending[pos]; }
      if (!state.pending[pos]) fill(pos, answers[pos].response);
    });
    Object.keys(state.pending).forEach(function (pos) {
      if (!questionByPos(pos)) { delete state.pending[pos]; return; }
      fill(pos, state.pending[pos].response);
    });
    if (state.prediction && typeof msg.prediction_seq === "number" && state.prediction.seq <= msg.prediction_seq) state.prediction = null;
    if (msg.prediction !== undefined && msg.prediction !== null && state.prediction === null) fillPrediction(msg.prediction);
    persist();
    refreshAll();
    tick();
    if (msg.status && msg.status !== "in_progress") return;
    flush();
    form.setAttribute("aria-busy", "false");
    // A submit sent before a reconnect may never have arrived: send it again (the server's submit is
    // idempotent and handles this connection's messages in order, so the flushed answers go first).
    submitBtn.disabled = submitting;
    if (submitting) maybeSubmitNow();
  }

  function onReleased(msg) {
    if (!msg.question) { allReleased = true; updatePager(); return; }
    if (!questionByPos(msg.question.position)) { questions.push(msg.question); renderQuestion(msg.question); }
    showCurrent(true);
  }

  function onAck(msg) {
    if (msg.kind === "prediction") {
      if (state.prediction && state.prediction.seq <= msg.seq) { state.prediction = null; persist(); }
      markPrediction(true);
      return;
    }
    var pos = String(msg.position);
    var p = state.pending[pos];
    if (p && p.seq <= msg.seq) {
      saved[pos] = { response: p.response, seq: msg.seq };
      delete state.pending[pos]; persist();
    } else if (!p) {
      saved[pos] = saved[pos] || { seq: msg.seq };
    }
    refresh(pos);
    say(T.answerSaved + pos + ".");
    updateProgress();
    maybeSubmitNow();
  }

  var PERMANENT = { deadline_passed: 1, attempt_closed: 1, question_not_in_attempt: 1, invalid_response: 1,
    answer_locked: 1, invalid_field: 1, invalid_seq: 1, question_not_released: 1, prediction_disabled: 1,
    invalid_prediction: 1, attempt_finished: 1 };

  function onError(msg) {
    var aboutSubmit = submitting && submitSeq && msg.seq === submitSeq;
    var submitFailed = aboutSubmit && !PERMANENT[msg.code] && msg.code !== "attempt_not_found";
    if (typeof msg.seq === "number" && !aboutSubmit) {
      // Find what this seq was about; permanent errors drop it, transient ones keep it for resend.
      Object.keys(state.pending).forEach(function (pos) {
        if (state.pending[pos].seq === msg.seq && PERMANENT[msg.code]) {
          delete state.pending[pos]; persist(); refresh(pos, T.rejected);
        }
      });
      if (state.prediction && state.prediction.seq === msg.seq && PERMANENT[msg.code]) { state.prediction = null; persist(); }
      maybeSubmitNow();  // a submit waiting for this answer goes out now that it is settled
    }
    if (msg.code === "deadline_passed" || msg.code === "attempt_closed") onExpired();
    if (msg.code === "rate_limited" || msg.code === "storage_unavailable") { flushSoon(); }
    if (submitFailed) retrySubmit(2000 + Math.random() * 3000);  // not submitted yet: say so and send it again
    alertMsg(msg.message || "");
    setTimeout(function () {
      if (alertEl.textContent !== (msg.message || "")) return;
      alertMsg(submitting && !stopped ? T.submitting : "");  // still waiting for the submit: keep saying so
    }, 6000);
  }

  function onExpired() {
    if (expired) return;
    expired = true;
    alertMsg(T.expired);
    Array.prototype.forEach.call(form.querySelectorAll("input, textarea"), function (i) { i.disabled = true; });
    submitBtn.disabled = true;
    // The server submits at the deadline; ask for it too in case the sweeper is late.
    setTimeout(function () { send({ type: "submit", seq: nextSeq() }); }, 3000 + Math.random() * 4000);
  }

  function onSubmitted(msg) {
    if (msg.result_url) resultUrl = msg.result_url;
    goToResult();
  }

  function goToResult() {
    stopped = true;
    clearTimeout(submitTimer);
    try { localStorage.removeItem(storeKey); } catch (e) { /* ignore */ }
    say(T.submitted);
    setTimeout(function () { location.href = resultUrl; }, 300);
  }

  // ---- rendering -------------------------------------------------------------------------------
  var CHOICE = { single: 1, truefalse: 1, multiple: 1 };
  var TARGETS = {
    perfect_people: _("người trả lời đúng tất cả câu hỏi"),
    perfect_attempts: _("lượt thi trả lời đúng tất cả câu hỏi"),
    entrants: _("người dự thi"),
    attempts: _("lượt thi"),
  };

  function questionByPos(pos) {
    for (var i = 0; i < questions.length; i++) if (String(questions[i].position) === String(pos)) return questions[i];
    return null;
  }

  function render(snapshot) {
    if (!rendered) {
      rendered = true;
      var loading = el("exam-loading");
      if (loading) loading.remove();
      if (snapshot.prediction_enabled) renderPrediction(snapshot);
      submitBtn.addEventListener("click", askSubmit);
      el("exam-next").addEventListener("click", function () { send({ type: "next" }); });
      el("exam-prev").hidden = true;  // one at a time: the server releases questions forward only
    }
    questions.forEach(function (q) { if (!el("q-" + q.position)) renderQuestion(q); });
    showCurrent(false);
  }

  function renderQuestion(q) {
    var fs = document.createElement("fieldset");
    fs.className = "question"; fs.id = "q-" + q.position; fs.setAttribute("data-position", q.position);
    var legend = document.createElement("legend");
    var num = document.createElement("span"); num.className = "qnum";
    num.textContent = T.question + " " + q.position + "/" + (questionCount || questions.length) + ". ";
    var stem = document.createElement("span"); stem.className = "stem";
    stem.appendChild(window.ceRichText(q.stem));  // static/js/rich-text.js: no innerHTML
    legend.appendChild(num); legend.appendChild(stem); fs.appendChild(legend);
    (q.media || []).forEach(function (m) {
      var node = document.createElement(m.kind === "audio" ? "audio" : "img");
      node.src = m.url; if (m.kind === "audio") node.controls = true; else node.alt = "";
      node.className = "question-media"; fs.appendChild(node);
    });
    var name = "q" + q.position;
    if (q.type === "multiple") {
      // Several answers may be right: said on screen and to screen readers (part of the group's description).
      var hint = document.createElement("p");
      hint.className = "question-hint"; hint.id = "hint-" + q.position; hint.textContent = T.multipleHint;
      fs.appendChild(hint);
      fs.setAttribute("aria-describedby", hint.id);
    }
    if (CHOICE[q.type]) {
      var multi = q.type === "multiple";
      (q.options || []).forEach(function (o) {
        var label = document.createElement("label"); label.className = "option";
        var input = document.createElement("input");
        input.type = multi ? "checkbox" : "radio"; input.name = name; input.value = o.id;
        input.addEventListener("change", function () { answered(q); });
        var text = document.createElement("span"); text.appendChild(window.ceRichText(o.text));
        label.appendChild(input); label.appendChild(text); fs.appendChild(label);
      });
    } else {
      var id = "in-" + q.position;
      var lab = document.createElement("label"); lab.setAttribute("for", id);
      lab.className = "visually-hidden"; lab.textContent = T.answerPlaceholder;
      var field = document.createElement(q.type === "essay" ? "textarea" : "input");
      field.id = id; field.name = name;
      if (q.type === "numeric") field.inputMode = "decimal";
      field.addEventListener("input", debounce(function () { answered(q); }, 600));
      fs.appendChild(lab); fs.appendChild(field);
    }
    var st = document.createElement("p"); st.className = "save-state"; st.id = "st-" + q.position;
    st.setAttribute("aria-live", "off");
    fs.appendChild(st);
    questionsEl.appendChild(fs);
    refresh(q.position);
  }

  // One question at a time: only the latest released question is shown (and may be answered).
  function showCurrent(focus) {
    if (presentation !== "one_at_a_time") { pager.hidden = true; return; }
    var last = questions.length ? questions[questions.length - 1] : null;
    Array.prototype.forEach.call(questionsEl.children, function (fs) {
      fs.hidden = !last || fs.getAttribute("data-position") !== String(last.position);
    });
    if (last && last.position >= questionCount) allReleased = true;
    updatePager();
    if (focus && last) { var first = el("q-" + last.position).querySelector("input, textarea"); if (first) first.focus(); }
  }

  function updatePager() {
    if (presentation !== "one_at_a_time") return;
    pager.hidden = false;
    var last = questions.length ? questions[questions.length - 1] : null;
    el("exam-pager-pos").textContent = last ? T.question + " " + last.position + "/" + questionCount : "";
    el("exam-next").hidden = allReleased;
  }

  function renderPrediction(snapshot) {
    var box = el("exam-prediction");
    box.hidden = false;
    var lab = document.createElement("label"); lab.setAttribute("for", "prediction");
    lab.textContent = T.predictionLabel + " " + (TARGETS[snapshot.prediction_target_kind || root.getAttribute("data-prediction-target")] || TARGETS.perfect_attempts) + "?";
    var input = document.createElement("input");
    input.id = "prediction"; input.type = "number"; input.min = "0"; input.step = "1"; input.inputMode = "numeric";
    input.setAttribute("aria-describedby", "prediction-help prediction-state");
    var help = document.createElement("p"); help.id = "prediction-help"; help.className = "help"; help.textContent = T.predictionHelp;
    var st = document.createElement("p"); st.id = "prediction-state"; st.className = "save-state";
    input.addEventListener("input", debounce(function () {
      var v = parseInt(input.value, 10);
      if (isNaN(v) || v < 0) return;
      state.prediction = { seq: nextSeq(), value: v }; persist();
      markPrediction(false);
      send({ type: "prediction", seq: state.prediction.seq, value: v });
    }, 600));
    box.appendChild(lab); box.appendChild(input); box.appendChild(help); box.appendChild(st);
    if (state.prediction) { input.value = state.prediction.value; markPrediction(false); }
  }

  function fillPrediction(value) { var i = el("prediction"); if (i) { i.value = value; markPrediction(true); } }
  function markPrediction(ok) {
    var st = el("prediction-state");
    if (st) { st.textContent = ok ? T.saved : T.unsaved; st.className = "save-state " + (ok ? "is-saved" : "is-pending"); }
  }

  function readResponse(q) {
    var fs = el("q-" + q.position);
    if (CHOICE[q.type]) {
      var ids = [];
      Array.prototype.forEach.call(fs.querySelectorAll("input:checked"), function (i) { ids.push(Number(i.value)); });
      return { options: ids };
    }
    var v = fs.querySelector("input, textarea").value;
    return q.type === "numeric" ? { number: v } : { text: v };
  }

  function fill(pos, response) {
    var fs = el("q-" + pos);
    if (!fs || !response) return;
    if (response.options) {
      var chosen = response.options.map(String);
      Array.prototype.forEach.call(fs.querySelectorAll("input"), function (i) { i.checked = chosen.indexOf(i.value) >= 0; });
    } else {
      var f = fs.querySelector("input, textarea");
      if (f) f.value = response.number !== undefined ? response.number : (response.text || "");
    }
  }

  function answered(q) {
    if (expired) return;
    var response = readResponse(q);
    if (!fits({ type: "answer", seq: Number.MAX_SAFE_INTEGER, position: q.position, response: response })) {
      refresh(q.position, T.tooLong);
      return;
    }
    var seq = nextSeq();
    state.pending[q.position] = { seq: seq, response: response };
    persist();
    refresh(q.position);
    updateProgress();
    send({ type: "answer", seq: seq, position: q.position, response: state.pending[q.position].response });
  }

  // One resend of everything pending 1.5 s after a refusal, however many refusals arrive meanwhile: a resend
  // per refusal sent k² frames for k pending answers, then k³…, until the rate limit closed the socket (4408).
  var flushTimer = null;
  function flushSoon() {
    if (flushTimer) return;
    flushTimer = setTimeout(function () { flushTimer = null; flush(); }, 1500);
  }

  function flush() {
    Object.keys(state.pending).forEach(function (pos) {
      var p = state.pending[pos], frame = { type: "answer", seq: p.seq, position: Number(pos), response: p.response };
      if (!fits(frame)) { delete state.pending[pos]; persist(); refresh(pos, T.tooLong); return; }
      send(frame);
    });
    if (state.prediction) send({ type: "prediction", seq: state.prediction.seq, value: state.prediction.value });
  }

  function refresh(pos, override) {
    var st = el("st-" + pos), fs = el("q-" + pos);
    if (!st) return;
    var pending = !!state.pending[pos], has = !!saved[pos];
    st.textContent = override || (pending ? T.unsaved : (has ? T.saved : ""));
    st.className = "save-state " + (pending ? "is-pending" : (has ? "is-saved" : ""));
    if (fs) fs.setAttribute("data-state", pending ? "pending" : (has ? "saved" : "empty"));
    if (fs && !allowChange && has && !pending) {
      Array.prototype.forEach.call(fs.querySelectorAll("input, textarea"), function (i) { i.disabled = true; });
    }
  }
  function refreshAll() { questions.forEach(function (q) { refresh(q.position); }); updateProgress(); }
  function updateProgress() {
    var n = 0;
    questions.forEach(function (q) { if (saved[q.position] && !state.pending[q.position]) n++; });
    progressEl.textContent = n + "/" + (questionCount || questions.length);
  }

  // ---- submit ----------------------------------------------------------------------------------
  function askSubmit() {
    var unanswered = (questionCount || questions.length) - questions.filter(function (q) {
      return saved[q.position] || state.pending[q.position];
    }).length;
    el("exam-confirm-text").textContent = T.confirm + (unanswered ? " " + T.unanswered.replace("{n}", unanswered) : "");
    var dlg = el("exam-confirm");
    if (typeof dlg.showModal === "function") {
      dlg.showModal();
      el("exam-confirm-no").focus();
    } else if (window.confirm(el("exam-confirm-text").textContent)) {
      doSubmit();
    }
  }
  el("exam-confirm-yes").addEventListener("click", function () { el("exam-confirm").close(); doSubmit(); });
  el("exam-confirm-no").addEventListener("click", function () { el("exam-confirm").close(); submitBtn.focus(); });

  function doSubmit() {
    submitting = true;
    submitBtn.disabled = true;
    alertMsg(T.submitting);
    if (Object.keys(state.pending).length) { say(T.pendingWait); flush(); setTimeout(function () { maybeSubmitNow(true); }, 8000); return; }
    maybeSubmitNow(true);
  }
  function maybeSubmitNow(force) {
    if (!submitting) return;
    if (Object.keys(state.pending).length && !force) return;
    submitSeq = nextSeq();
    send({ type: "submit", seq: submitSeq });
    retrySubmit(SUBMIT_PATIENCE_MS);  // no reply by then (or the socket was down): send it again
  }
  function retrySubmit(ms) {
    clearTimeout(submitTimer);
    submitTimer = setTimeout(function () { if (submitting && !stopped) maybeSubmitNow(true); }, ms);
  }

  // ---- timer -----------------------------------------------------------------------------------
  function tick() {
    if (deadline === null) return;
    var left = Math.max(0, deadline - (Date.now() + offset));
    var s = Math.ceil(left / 1000), m = Math.floor(s / 60);
    timerEl.textContent = (m < 10 ? "0" : "") + m + ":" + (s % 60 < 10 ? "0" : "") + (s % 60);
    timerEl.setAttribute("datetime", "PT" + m + "M" + (s % 60) + "S");
    root.classList.toggle("time-low", s <= 60);
    if (!warned5 && s <= 300 && s > 60) { warned5 = true; alertMsg(T.fiveMin); setTimeout(function () { alertMsg(""); }, 5000); }
    if (!warned1 && s <= 60 && s > 0) { warned1 = true; alertMsg(T.oneMin); setTimeout(function () { alertMsg(""); }, 5000); }
  }
  setInterval(tick, 250);

  function debounce(fn, ms) { var t; return function () { clearTimeout(t); t = setTimeout(fn, ms); }; }

  window.addEventListener("online", function () { if (!ws && !stopped) { backoff = 500; connect(); } });
  window.addEventListener("offline", function () { setConn("offline", T.offline); });

  // ---- evidence (protocol v1.1) -----------------------------------------------------------------
  // What the page saw — hidden, blur, fullscreen left, copy, paste, reload — reported for the judges. The
  // server never answers it and never rejects an answer because of it. A random id of this browser is kept
  // in the ce_device cookie (the socket's handshake carries it) so two devices on one attempt can be told
  // apart. Both are disclosed in the privacy notice.
  var evidenceQueue = [], currentPosition = null;
  (function deviceCookie() {
    if (/(?:^|;\s*)ce_device=/.test(document.cookie) || !window.crypto || !window.crypto.getRandomValues) return;
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    var id = Array.prototype.map.call(bytes, function (b) { return (b < 16 ? "0" : "") + b.toString(16); }).join("");
    document.cookie = "ce_device=" + id + "; path=/; max-age=31536000; SameSite=Lax" +
      (location.protocol === "https:" ? "; Secure" : "");
  })();
  function evidence(kind) {
    var msg = { type: "evidence", kind: kind };   // "type" first: the server's evidence budget applies
    if (currentPosition) msg.position = currentPosition;
    if (!send(msg) && evidenceQueue.length < 50) evidenceQueue.push(msg);
  }
  function flushEvidence() {
    while (evidenceQueue.length && send(evidenceQueue[0])) evidenceQueue.shift();
  }
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") evidence("hidden");
  });
  window.addEventListener("blur", function () { if (document.visibilityState === "visible") evidence("blur"); });
  document.addEventListener("fullscreenchange", function () { if (!document.fullscreenElement) evidence("fullscreen_exit"); });
  document.addEventListener("copy", function () { evidence("copy"); });
  document.addEventListener("paste", function () { evidence("paste"); });
  form.addEventListener("focusin", function (ev) {
    var box = ev.target && ev.target.closest ? ev.target.closest("[id^='q-']") : null;
    if (box) currentPosition = parseInt(box.id.slice(2), 10) || null;
  });
  try {
    var nav = performance.getEntriesByType && performance.getEntriesByType("navigation")[0];
    if (nav && nav.type === "reload") evidenceQueue.push({ type: "evidence", kind: "reload" });
  } catch (e) { /* old browser: no navigation timing */ }

  connect();
})();
