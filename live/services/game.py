"""Host controls and the close of each question, decided on the server.

Locking contract (PostgreSQL; SQLite serialises writers anyway):
- every host control and every close locks the session row ``FOR UPDATE``;
- answer batches hold ``FOR KEY SHARE`` on it while they store (``live.services.answers``) and joins
  ``FOR SHARE`` (``live.services.players``). So a close waits for the answer batches in flight, and a batch
  that starts after the close sees the question closed: every stored answer is counted by exactly one
  close, and an answer is either acknowledged and counted or refused with a typed error;
- the deadline closes are tried by every server process with players in the game (``live.hub`` timers) and
  by the worker (``live.jobs``); ``pg_try_advisory_xact_lock`` lets one of them do the work, the others return.

Each question is folded into the players' rows once, when it closes (score, correct count, streak, answer
time, elimination) and the ranks are recomputed in one statement — never per player, never per answer.
``session_replay`` recomputes every player from the answers and the rescue log (the same fold in Python).
Events go out after the commit (``realtime.events.live_push_on_commit``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import Count
from django.utils.translation import gettext as _

from contest_engine.tasks import task_enqueue
from contests.services._common import audit, resolve_now
from live import errors, selectors
from live.models import (
    GameMode,
    LiveAnswer,
    LivePlayer,
    LiveQuestion,
    LiveRescue,
    LiveSession,
    Phase,
    PlayerStatus,
    RescueKind,
)
from live.services.results import SESSION_RESULTS_SAVE_TASK
from live.services.sessions import require_host
from realtime import events

ADVISORY_NAMESPACE = 0x11FE  # pg_try_advisory_xact_lock(namespace, session id): one closer at a time


def _locked(session_id: int) -> LiveSession:
    session = LiveSession.objects.select_for_update().filter(pk=session_id).first()
    if session is None:
        raise errors.SessionNotFound()
    return session


def _host_locked(session_id: int, actor: Any) -> LiveSession:
    session = _locked(session_id)
    require_host(actor, session.organisation_id)
    return session


def _audit(actor: Any, action: str, session: LiveSession, **data: Any) -> None:
    audit(actor=actor, action=f"live.{action}", target=session, organisation=session.organisation_id,
          data={"position": session.position, **data})


# --------------------------------------------------------------------------------------------------
# Next question
# --------------------------------------------------------------------------------------------------


def question_next(*, session_id: int, actor: Any, now: dt.datetime | None = None) -> dict[str, Any]:
    """Open the next question (the first one starts the game) with a server deadline, and broadcast it
    without its key. Raises NotHost, SessionFinished, WrongPhase (a question is open), NoMoreQuestions,
    NoPlayers (starting an empty game)."""
    now = resolve_now(now)
    with transaction.atomic():
        session = _host_locked(session_id, actor)
        if session.phase == Phase.FINISHED:
            raise errors.SessionFinished()
        if session.phase == Phase.QUESTION:
            raise errors.WrongPhase()
        if session.position >= session.question_count:
            raise errors.NoMoreQuestions()
        if session.phase == Phase.LOBBY and not LivePlayer.objects.filter(session_id=session.pk).exists():
            raise errors.NoPlayers()
        position = session.position + 1
        deadline = now + dt.timedelta(seconds=session.seconds_per_question)
        session.phase, session.position, session.opened_at, session.deadline = Phase.QUESTION, position, now, deadline
        session.paused_at = session.paused_remaining_ms = None
        session.started_at = session.started_at or now
        session.seq += 1
        session.save(update_fields=["phase", "position", "opened_at", "deadline", "paused_at", "paused_remaining_ms",
                                    "started_at", "seq"])
        question = LiveQuestion.objects.get(session_id=session.pk, position=position)
        question.opened_at, question.deadline = now, deadline
        question.in_game = LivePlayer.objects.filter(session_id=session.pk, status=PlayerStatus.ACTIVE,
                                                     first_position__lte=position).count()
        question.save(update_fields=["opened_at", "deadline", "in_game"])
        payload = events.live_event(events.LIVE_QUESTION, session_id=session.pk, seq=session.seq,
                                    position=position, count=session.question_count,
                                    question=selectors.question_public(question),
                                    opened_ms=selectors.ms(now), deadline_ms=selectors.ms(deadline),
                                    seconds=session.seconds_per_question, in_game=question.in_game,
                                    server_time_ms=selectors.ms(now))
        events.live_push_on_commit(session.pk, payload)
        if position == 1:
            _audit(actor, "session_started", session)
    return payload


# --------------------------------------------------------------------------------------------------
# Close (deadline, host's reveal, everybody answered)
# --------------------------------------------------------------------------------------------------


def _try_close_lock(session_id: int) -> bool:
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", [ADVISORY_NAMESPACE, int(session_id)])
        return bool(cursor.fetchone()[0])


def question_close(*, session_id: int, position: int | None = None, now: dt.datetime | None = None,
                   actor: Any = None, force: bool = False) -> bool:
    """Close the open question and broadcast its reveal: distribution, correct options, explanation and
    citation, the top 10, and to each player their own rank and score.

    Without ``force`` only once its deadline has passed (and not while paused): the timers and the worker
    call it that way. ``force`` is the host's "reveal now" (``actor`` must be a host) or everybody having
    answered. ``position`` guards against closing a later question than meant. Returns False when there
    was nothing to do (already closed, not due, another process is closing it)."""
    now = resolve_now(now)
    with transaction.atomic():
        if actor is None and not _try_close_lock(session_id):
            return False
        session = _host_locked(session_id, actor) if actor is not None else _locked(session_id)
        if session.phase != Phase.QUESTION or (position is not None and session.position != position):
            if actor is not None:
                raise errors.WrongPhase()
            return False
        if not force and (session.paused_at is not None or session.deadline is None or now < session.deadline):
            return False
        _close_locked(session, now=now)
        if actor is not None:
            _audit(actor, "question_revealed", session)
    return True


def _new_values(session: LiveSession, p: str, t: str) -> tuple[list[str], list[Any]]:
    """SQL expressions of a player's standing after the closing question (``p``: the player row, ``t``: its answer
    to the question — ``ok``, ``pts``, ``el`` — and ``in_game``), in the order of ``_COLUMNS``, with their
    parameters. The one definition of the fold; ``session_replay`` is its Python twin."""
    position, limit_ms = session.position, session.seconds_per_question * 1000
    elimination = session.mode == GameMode.ELIMINATION
    changed: list[tuple[str, str, list[Any]]] = [
        ("score", f"CASE WHEN {t}.ok THEN %s ELSE {p}.score END", [position]) if elimination
        else ("score", f"{p}.score + COALESCE({t}.pts, 0)", []),
        ("correct_count", f"{p}.correct_count + CASE WHEN {t}.ok THEN 1 ELSE 0 END", []),
        ("streak", f"CASE WHEN {t}.ok THEN {p}.streak + 1 ELSE 0 END", []),
        # An unanswered question costs its whole time: faster players rank higher on equal scores.
        ("time_ms", f"{p}.time_ms + COALESCE({t}.el, %s)", [limit_ms]),
        ("status", f"CASE WHEN {t}.ok THEN {p}.status ELSE %s END", [PlayerStatus.ELIMINATED]) if elimination
        else ("status", f"{p}.status", []),
        ("eliminated_at", f"CASE WHEN {t}.ok THEN {p}.eliminated_at ELSE %s END", [position]) if elimination
        else ("eliminated_at", f"{p}.eliminated_at", []),
    ]
    expressions, params = [], []
    for column, expression, values in changed:
        expressions.append(f"CASE WHEN {t}.in_game THEN {expression} ELSE {p}.{column} END")
        params += values
    return expressions, params


_COLUMNS = ("score", "correct_count", "streak", "time_ms", "status", "eliminated_at")


def _answers_of_question(session: LiveSession) -> tuple[str, list[Any]]:
    """Every player of the game with their answer to the closing question and whether they were in it."""
    player, answer = LivePlayer._meta.db_table, LiveAnswer._meta.db_table
    return (f"SELECT p.*, a.is_correct AS ok, a.points AS pts, a.elapsed_ms AS el, "
            f"(p.status = %s AND p.first_position <= %s) AS in_game FROM {player} p "
            f"LEFT JOIN {answer} a ON a.player_id = p.id AND a.position = %s WHERE p.session_id = %s",
            [PlayerStatus.ACTIVE, session.position, session.position, session.pk])


def _fold_and_rank_postgresql(session: LiveSession) -> list[tuple]:
    """Fold the closing question into every player and rank them, in ONE statement (one new row version per
    player; the table's fillfactor leaves room on each page so that PostgreSQL writes them as heap-only tuples,
    without touching the indexes), and return every player's new standing with their answer's outcome."""
    player = LivePlayer._meta.db_table
    joined, join_params = _answers_of_question(session)
    expressions, params = _new_values(session, "x", "x")
    sql = (f"WITH x AS ({joined}), "
           f"t AS (SELECT x.id, x.pts, x.ok, x.in_game, "
           + ", ".join(f"{e} AS {c}" for e, c in zip(expressions, _COLUMNS, strict=True)) + " FROM x), "
           f'r AS (SELECT t.*, RANK() OVER (ORDER BY t.score DESC, t.time_ms ASC) AS rk FROM t), '
           f"u AS (UPDATE {player} p SET score = r.score, correct_count = r.correct_count, streak = r.streak, "
           f'time_ms = r.time_ms, status = r.status, eliminated_at = r.eliminated_at, "rank" = r.rk FROM r '
           f'WHERE p.id = r.id AND (r.in_game OR p."rank" IS DISTINCT FROM r.rk) RETURNING p.id) '
           f"SELECT r.id, r.rk, r.score, r.correct_count, r.streak, r.status, r.eliminated_at, r.pts, r.ok FROM r")
    with connection.cursor() as cursor:
        cursor.execute(sql, [*join_params, *params])
        return cursor.fetchall()


def _fold_and_rank_portable(session: LiveSession) -> list[tuple]:
    """The same on SQLite (the embedded default): an UPDATE for the fold, one for the ranks, a SELECT."""
    player = LivePlayer._meta.db_table
    joined, join_params = _answers_of_question(session)
    expressions, params = _new_values(session, player, "t")
    sets = ", ".join(f"{c} = {e}" for e, c in zip(expressions, _COLUMNS, strict=True))
    rank = (f'UPDATE {player} SET "rank" = r.rk FROM (SELECT id, RANK() OVER (ORDER BY score DESC, time_ms ASC) '
            f'AS rk FROM {player} WHERE session_id = %s) r WHERE {player}.id = r.id '
            f'AND ({player}."rank" IS NULL OR {player}."rank" <> r.rk)')
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {player} SET {sets} FROM ({joined}) t WHERE {player}.id = t.id AND t.in_game",
                       [*params, *join_params])
        cursor.execute(rank, [session.pk])
        cursor.execute(f'SELECT x.id, x."rank", x.score, x.correct_count, x.streak, x.status, x.eliminated_at, x.pts, '
                       f"x.ok FROM ({joined}) x", join_params)
        return cursor.fetchall()


def _distribution(session_id: int, position: int) -> tuple[dict[str, int], int, int]:
    counts: dict[str, int] = {}
    answered = correct = 0
    for options, ok, n in (LiveAnswer.objects.filter(session_id=session_id, position=position)
                           .values_list("options", "is_correct").annotate(n=Count("id")).order_by()):
        answered += n
        correct += n if ok else 0
        for option in options.split(","):
            if option:
                counts[option] = counts.get(option, 0) + n
    return counts, answered, correct


def _close_locked(session: LiveSession, *, now: dt.datetime) -> None:
    """The close itself (session row locked by the caller): fold, rank, store the reveal, broadcast it."""
    position = session.position
    fold = _fold_and_rank_postgresql if connection.vendor == "postgresql" else _fold_and_rank_portable
    rows = fold(session)
    question = LiveQuestion.objects.get(session_id=session.pk, position=position)
    question.distribution, question.answered, question.correct = _distribution(session.pk, position)
    question.top = selectors.top_rows(session_id=session.pk)
    question.closed_at = now
    question.save(update_fields=["distribution", "answered", "correct", "top", "closed_at"])
    session.phase, session.paused_at, session.paused_remaining_ms = Phase.REVEAL, None, None
    session.seq += 1
    session.save(update_fields=["phase", "paused_at", "paused_remaining_ms", "seq"])
    you = [[pid, selectors.you_json(rank=rank, score=score, correct_count=correct, streak=streak, status=status,
                                    eliminated_at=eliminated_at, points=points, ok=None if ok is None else bool(ok))]
           for pid, rank, score, correct, streak, status, eliminated_at, points, ok in rows]
    active = sum(1 for row in rows if row[5] == PlayerStatus.ACTIVE)
    payload = events.live_event(events.LIVE_REVEAL, session_id=session.pk, seq=session.seq,
                                **selectors.reveal_public(question), active=active, players=len(rows),
                                last=position == session.question_count, you=you)
    events.live_push_on_commit(session.pk, payload)


def questions_close_due(*, now: dt.datetime | None = None) -> int:
    """Close every question past its deadline (the worker's safety net when no server process did)."""
    now = resolve_now(now)
    closed = 0
    for session_id, position in (LiveSession.objects.filter(phase=Phase.QUESTION, paused_at__isnull=True,
                                                            deadline__lt=now).values_list("id", "position")):
        closed += question_close(session_id=session_id, position=position, now=now)
    return closed


# --------------------------------------------------------------------------------------------------
# Pause, resume
# --------------------------------------------------------------------------------------------------


def game_pause(*, session_id: int, actor: Any, now: dt.datetime | None = None) -> dict[str, Any]:
    """Stop the clock of the open question; answers are refused (``game_paused``) until it resumes."""
    now = resolve_now(now)
    with transaction.atomic():
        session = _host_locked(session_id, actor)
        if session.phase != Phase.QUESTION or session.paused_at is not None:
            raise errors.WrongPhase()
        session.paused_at = now
        session.paused_remaining_ms = max(0, int((session.deadline - now) / dt.timedelta(milliseconds=1)))
        session.seq += 1
        session.save(update_fields=["paused_at", "paused_remaining_ms", "seq"])
        payload = events.live_event(events.LIVE_PAUSED, session_id=session.pk, seq=session.seq,
                                    position=session.position, remaining_ms=session.paused_remaining_ms)
        events.live_push_on_commit(session.pk, payload)
        _audit(actor, "paused", session)
    return payload


def game_resume(*, session_id: int, actor: Any, now: dt.datetime | None = None) -> dict[str, Any]:
    """Restart the clock: the opening time and the deadline move by the length of the pause, so answer times
    (speed points) do not count it."""
    now = resolve_now(now)
    with transaction.atomic():
        session = _host_locked(session_id, actor)
        if session.phase != Phase.QUESTION or session.paused_at is None:
            raise errors.WrongPhase()
        shift = now - session.paused_at
        session.opened_at += shift
        session.deadline = now + dt.timedelta(milliseconds=session.paused_remaining_ms or 0)
        session.paused_at = session.paused_remaining_ms = None
        session.seq += 1
        session.save(update_fields=["opened_at", "deadline", "paused_at", "paused_remaining_ms", "seq"])
        LiveQuestion.objects.filter(session_id=session.pk, position=session.position).update(
            opened_at=session.opened_at, deadline=session.deadline)
        payload = events.live_event(events.LIVE_RESUMED, session_id=session.pk, seq=session.seq,
                                    position=session.position, opened_ms=selectors.ms(session.opened_at),
                                    deadline_ms=selectors.ms(session.deadline), server_time_ms=selectors.ms(now))
        events.live_push_on_commit(session.pk, payload)
        _audit(actor, "resumed", session)
    return payload


# --------------------------------------------------------------------------------------------------
# Rescue (elimination)
# --------------------------------------------------------------------------------------------------


def players_rescue(*, session_id: int, actor: Any, kind: str, from_position: int | None = None,
                   count: int | None = None, now: dt.datetime | None = None) -> dict[str, Any]:
    """Bring eliminated players back (cứu trợ), between two questions of an elimination game:

    - ``kind="question"``: everybody eliminated on question ``from_position``;
    - ``kind="best"``: the ``count`` best eliminated players — furthest in the game first (the last
      question they passed), then the fastest (total answer time), then who joined first.

    Raises WrongPhase (a question is open, or the game is not an elimination game or is over),
    RescueInvalid (bad arguments, or nobody to bring back)."""
    now = resolve_now(now)
    with transaction.atomic():
        session = _host_locked(session_id, actor)
        if session.mode != GameMode.ELIMINATION or session.phase != Phase.REVEAL:
            raise errors.WrongPhase()
        eliminated = LivePlayer.objects.filter(session_id=session.pk, status=PlayerStatus.ELIMINATED)
        if kind == RescueKind.QUESTION:
            if not isinstance(from_position, int) or not 1 <= from_position <= session.position:
                raise errors.RescueInvalid()
            chosen = list(eliminated.filter(eliminated_at=from_position).order_by("id").values_list("id", flat=True))
        elif kind == RescueKind.BEST:
            if not isinstance(count, int) or isinstance(count, bool) or count < 1:
                raise errors.RescueInvalid()
            chosen = list(eliminated.order_by("-score", "time_ms", "joined_at", "id").values_list("id", flat=True)
                          [:count])
        else:
            raise errors.RescueInvalid()
        if not chosen:
            raise errors.RescueInvalid(_("Không có người chơi nào để cứu trợ theo lựa chọn này."))
        LivePlayer.objects.filter(pk__in=chosen).update(status=PlayerStatus.ACTIVE, eliminated_at=None)
        LiveRescue.objects.create(session=session, after_position=session.position, kind=kind,
                                  from_position=from_position if kind == RescueKind.QUESTION else None,
                                  count=count if kind == RescueKind.BEST else None, player_ids=chosen,
                                  actor=actor if getattr(actor, "pk", None) else None, at=now)
        session.seq += 1
        session.save(update_fields=["seq"])
        active = LivePlayer.objects.filter(session_id=session.pk, status=PlayerStatus.ACTIVE).count()
        payload = events.live_event(events.LIVE_RESCUED, session_id=session.pk, seq=session.seq, kind=kind,
                                    rescued=len(chosen), after_position=session.position, active=active,
                                    you=[[pid, selectors.encode({"status": PlayerStatus.ACTIVE, "rescued": True})]
                                         for pid in chosen])
        events.live_push_on_commit(session.pk, payload)
        _audit(actor, "players_rescued", session, kind=kind, from_position=from_position, count=count,
               rescued=len(chosen))
    return payload


# --------------------------------------------------------------------------------------------------
# End
# --------------------------------------------------------------------------------------------------


def game_end(*, session_id: int, actor: Any, now: dt.datetime | None = None) -> dict[str, Any]:
    """Finish the game (an open question is closed first and counted), broadcast the final standings, and
    queue the saving of the results (``live.services.results``). Idempotent for a finished game."""
    now = resolve_now(now)
    with transaction.atomic():
        session = _host_locked(session_id, actor)
        if session.phase == Phase.FINISHED:
            return events.live_event(events.LIVE_FINISHED, session_id=session.pk, seq=session.seq,
                                     top=selectors.top_rows(session_id=session.pk))
        if session.phase == Phase.QUESTION:
            _close_locked(session, now=now)
        if session.position == 0:
            # Ended from the lobby: nobody played, but everybody gets a rank (all equal).
            LivePlayer.objects.filter(session_id=session.pk).update(rank=1)
        session.phase, session.ended_at = Phase.FINISHED, now
        session.started_at = session.started_at or now
        session.seq += 1
        session.save(update_fields=["phase", "ended_at", "started_at", "seq"])
        counts = selectors.players_count(session_id=session.pk)
        payload = events.live_event(events.LIVE_FINISHED, session_id=session.pk, seq=session.seq,
                                    top=selectors.top_rows(session_id=session.pk), players=counts["players"],
                                    active=counts["active"], position=session.position,
                                    you=selectors.you_rows(session_id=session.pk, position=None))
        events.live_push_on_commit(session.pk, payload)
        _audit(actor, "session_ended", session, players=counts["players"])

        transaction.on_commit(lambda: task_enqueue(SESSION_RESULTS_SAVE_TASK, session_id=session.pk), robust=True)
    return payload


# --------------------------------------------------------------------------------------------------
# Replay (verification)
# --------------------------------------------------------------------------------------------------


@dataclass
class Standing:
    score: Decimal
    correct_count: int
    streak: int
    time_ms: int
    status: str
    eliminated_at: int | None


def session_replay(*, session_id: int) -> dict[int, Standing]:
    """Every player's standing recomputed from the answers and the rescue log, question by question —
    the same fold as the closes, in Python. Equal to the stored rows unless something went wrong."""
    session = LiveSession.objects.get(pk=session_id)
    closed = list(LiveQuestion.objects.filter(session=session, closed_at__isnull=False).order_by("position")
                  .values_list("position", flat=True))
    players = {p.pk: (p.first_position, Standing(Decimal(0), 0, 0, 0, PlayerStatus.ACTIVE, None))
               for p in LivePlayer.objects.filter(session=session)}
    answers = {(a.player_id, a.position): a for a in LiveAnswer.objects.filter(session_id=session_id)}
    rescues: dict[int, list[LiveRescue]] = {}
    for rescue in LiveRescue.objects.filter(session=session).order_by("at", "id"):
        rescues.setdefault(rescue.after_position, []).append(rescue)
    limit_ms = session.seconds_per_question * 1000
    elimination = session.mode == GameMode.ELIMINATION
    for position in closed:
        for pid, (first, standing) in players.items():
            if standing.status != PlayerStatus.ACTIVE or first > position:
                continue
            answer = answers.get((pid, position))
            ok = bool(answer and answer.is_correct)
            standing.correct_count += 1 if ok else 0
            standing.streak = standing.streak + 1 if ok else 0
            standing.time_ms += answer.elapsed_ms if answer else limit_ms
            if elimination:
                if ok:
                    standing.score = Decimal(position)
                else:
                    standing.status, standing.eliminated_at = PlayerStatus.ELIMINATED, position
            elif answer:
                standing.score += answer.points
        for rescue in rescues.get(position, []):
            for pid in rescue.player_ids:
                if pid in players:
                    players[pid][1].status, players[pid][1].eliminated_at = PlayerStatus.ACTIVE, None
    return {pid: standing for pid, (_first, standing) in players.items()}

