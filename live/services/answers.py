"""Answers of live games, stored many at a time (group commit) and acknowledged only after the commit.

The server process's answer batcher (``live.consumers``: a ``realtime`` batcher) hands everything queued to
``answers_store_batch``: one transaction, a constant number of statements whatever the batch size —
share-lock the games (1), load the players (1) and the open questions (1), insert (1), look up the
conflicts (0–1) — then, after the commit, one count per question touched (has everybody answered?). A result
per item, in order.

Rules per item, in this order: the player exists in that game; the game is not over; not paused; the
question named is the open one, and the frame reached the server by its deadline (``received_at``, taken by
the consumer when the frame arrived — the server's clock) — otherwise ``deadline_passed`` for an earlier or
closed question, ``question_not_open`` for a later one; the player is still in the game (not eliminated,
joined by then); the options are this question's (one for single choice and true/false). One answer per
player and question (the ``live_answer_once`` constraint decides): the same options again are a
``duplicate`` (a resend after a lost ack, acknowledged again), different ones ``already_answered``.

Correctness and points are decided here, with the question's key (never sent to a client before the
reveal) and the player's streak as of the previous close; the close only adds them up.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection, transaction

from contests import errors as contest_errors
from contests.services.attempts.answers import validate_response
from live import errors
from live.models import LiveAnswer, LivePlayer, LiveQuestion, LiveSession, Phase, PlayerStatus
from live.scoring import answer_is_correct, answer_points


@dataclass(frozen=True, slots=True)
class AnswerItem:
    session_id: int
    player_id: int
    position: int
    options: Any  # as sent: a list of option ids
    received_at: dt.datetime


@dataclass(slots=True)
class AnswerResult:
    """``status``: ``stored``, ``duplicate`` (the same answer was already stored) or ``error``.
    ``everyone_answered``: this batch brought the question's answers to the number of players in it."""

    position: int
    status: str
    error: errors.LiveError | None = None
    everyone_answered: bool = field(default=False)


@dataclass(frozen=True, slots=True)
class _Session:
    phase: str
    position: int
    opened_at: dt.datetime | None
    deadline: dt.datetime | None
    paused: bool
    scoring: str
    streak_bonus: bool
    seconds: int


_SESSION_COLUMNS = ("id", "phase", "position", "opened_at", "deadline", "paused_at", "scoring", "streak_bonus",
                    "seconds_per_question")


def _sessions(ids: list[int]) -> dict[int, _Session]:
    if connection.vendor == "postgresql":
        # KEY SHARE: batches of several processes store side by side; a close (FOR UPDATE) waits for them.
        table = LiveSession._meta.db_table
        marks = ", ".join(["%s"] * len(ids))
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {', '.join(_SESSION_COLUMNS)} FROM {table} WHERE id IN ({marks}) "
                           f"ORDER BY id FOR KEY SHARE", ids)
            rows = cursor.fetchall()
    else:  # SQLite serialises writers: no lock needed (and the ORM converts its datetimes)
        rows = list(LiveSession.objects.filter(pk__in=ids).values_list(*_SESSION_COLUMNS))
    return {row[0]: _Session(row[1], row[2], row[3], row[4], row[5] is not None, row[6], bool(row[7]), row[8])
            for row in rows}


def answers_store_batch(*, items: Sequence[AnswerItem], now: dt.datetime | None = None) -> list[AnswerResult]:
    """Store a batch of answers of any games in ONE transaction; results in the order of ``items``."""
    results: list[AnswerResult | None] = [None] * len(items)
    if not items:
        return []

    touched: set[tuple[int, int]] = set()

    def fail(index: int, error: errors.LiveError) -> None:
        results[index] = AnswerResult(position=items[index].position, status="error", error=error)

    with transaction.atomic():
        sessions = _sessions(sorted({item.session_id for item in items}))
        players = {row[0]: row for row in LivePlayer.objects.filter(pk__in={item.player_id for item in items})
                   .values_list("id", "session_id", "status", "first_position", "streak")}
        open_positions = {(sid, s.position) for sid, s in sessions.items() if s.phase == Phase.QUESTION}
        questions: dict[tuple[int, int], tuple[dict, dict, int]] = {}
        for sid, position, snapshot, key, in_game in LiveQuestion.objects.filter(
                session_id__in=[sid for sid, _ in open_positions]).filter(
                position__in=[pos for _, pos in open_positions]).values_list(
                "session_id", "position", "snapshot", "key", "in_game"):
            if (sid, position) in open_positions:
                questions[(sid, position)] = (snapshot, key, in_game)

        rows: dict[tuple[int, int], tuple[int, str, dt.datetime, int, bool, Decimal]] = {}
        first_index: dict[tuple[int, int], int] = {}
        for index, item in enumerate(items):
            session = sessions.get(item.session_id)
            player = players.get(item.player_id)
            if session is None or player is None or player[1] != item.session_id:
                fail(index, errors.PlayerNotFound())
                continue
            if session.phase == Phase.FINISHED:
                fail(index, errors.SessionFinished())
                continue
            if session.phase != Phase.QUESTION or item.position != session.position:
                late = item.position < session.position or (item.position == session.position
                                                            and session.phase == Phase.REVEAL)
                fail(index, errors.DeadlinePassed() if late else errors.QuestionNotOpen())
                continue
            if session.paused:
                fail(index, errors.GamePaused())
                continue
            if session.deadline is None or item.received_at > session.deadline:
                fail(index, errors.DeadlinePassed())
                continue
            _pid, _sid, status, first_position, streak = player
            if status != PlayerStatus.ACTIVE:
                fail(index, errors.Eliminated())
                continue
            if first_position > item.position:
                fail(index, errors.QuestionNotOpen())
                continue
            snapshot, key, _in_game = questions[(item.session_id, item.position)]
            try:
                chosen = validate_response(snapshot, {"options": item.options})["options"]
            except contest_errors.InvalidResponse:
                chosen = []
            if not chosen:
                fail(index, errors.InvalidResponse())
                continue
            pair = (item.player_id, item.position)
            options = ",".join(str(o) for o in chosen)
            if pair in rows:  # two connections of one player in one batch: the first one is the answer
                results[index] = (AnswerResult(item.position, "duplicate") if rows[pair][1] == options
                                  else AnswerResult(item.position, "error", errors.AlreadyAnswered()))
                continue
            elapsed_ms = max(0, min(session.seconds * 1000,
                                    int((item.received_at - session.opened_at) / dt.timedelta(milliseconds=1))))
            correct = answer_is_correct(qtype=snapshot.get("type", ""), key=key, options=chosen)
            points = answer_points(scoring=session.scoring, with_streak=session.streak_bonus, correct=correct,
                                   elapsed_ms=elapsed_ms, limit_seconds=session.seconds, streak_before=streak)
            rows[pair] = (item.session_id, options, item.received_at, elapsed_ms, correct, points)
            first_index[pair] = index

        if rows:
            inserted = _insert(rows)
            conflicts = [pair for pair in rows if pair not in inserted]
            stored = _stored_options(conflicts) if conflicts else {}
            for pair, index in first_index.items():
                if pair in inserted:
                    results[index] = AnswerResult(items[index].position, "stored")
                elif stored.get(pair) == rows[pair][1]:
                    results[index] = AnswerResult(items[index].position, "duplicate")
                else:
                    results[index] = AnswerResult(items[index].position, "error", errors.AlreadyAnswered())
            touched = {(rows[pair][0], pair[1]) for pair in inserted}
    if rows and touched:
        # Counted after the commit: of two batches committing side by side, the later count sees both.
        _mark_everyone_answered(items, results, questions, touched)
    return [r for r in results if r is not None]


def _insert(rows: dict[tuple[int, int], tuple]) -> set[tuple[int, int]]:
    """INSERT … ON CONFLICT DO NOTHING RETURNING: which (player, position) pairs are new."""
    table = LiveAnswer._meta.db_table
    values, params = [], []
    for (player_id, position), (session_id, options, received_at, elapsed_ms, correct, points) in rows.items():
        values.append("(%s, %s, %s, %s, %s, %s, %s, %s)")
        params += [session_id, player_id, position, options, received_at, elapsed_ms, correct, points]
    sql = (f"INSERT INTO {table} (session_id, player_id, position, options, received_at, elapsed_ms, is_correct, "
           f"points) VALUES {', '.join(values)} ON CONFLICT (player_id, position) DO NOTHING "
           f"RETURNING player_id, position")
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {(player_id, position) for player_id, position in cursor.fetchall()}


def _stored_options(pairs: list[tuple[int, int]]) -> dict[tuple[int, int], str]:
    found: dict[tuple[int, int], str] = {}
    for player_id, position, options in LiveAnswer.objects.filter(
            player_id__in={p for p, _ in pairs}).values_list("player_id", "position", "options"):
        if (player_id, position) in pairs:
            found[(player_id, position)] = options
    return found


def _mark_everyone_answered(items: Sequence[AnswerItem], results: list[AnswerResult | None],
                            questions: dict[tuple[int, int], tuple[dict, dict, int]],
                            touched: set[tuple[int, int]]) -> None:
    """Flag the stored results of questions that now have an answer from everybody in them (the game moves
    to the reveal without waiting for the deadline)."""
    for session_id, position in touched:
        in_game = questions[(session_id, position)][2]
        answered = LiveAnswer.objects.filter(session_id=session_id, position=position).count()
        if in_game and answered >= in_game:
            for index, item in enumerate(items):
                result = results[index]
                if (item.session_id, item.position) == (session_id, position) and result is not None \
                        and result.status == "stored":
                    result.everyone_answered = True
                    break
