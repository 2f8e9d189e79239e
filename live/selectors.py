"""Read side of live games: what each kind of screen may know, built from the database.

Nothing here returns an answer key for a question that has not closed: ``question_public`` is the only view
of an open question, and ``reveal_public`` reads only what ``question_close`` stored on a closed one.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal
from html import unescape
from typing import Any

from django.db import connection
from django.db.models import Count, Q
from django.utils.html import strip_tags

from live.models import LiveAnswer, LivePlayer, LiveQuestion, LiveSession, Phase, PlayerStatus

TOP_N = 10
encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def ms(moment: dt.datetime | None) -> int | None:
    return int(moment.timestamp() * 1000) if moment is not None else None


_BLOCK_END = re.compile(r"(?i)<br\s*/?>|</(p|div|li|h[1-6]|tr|blockquote)>")


def plain_lines(html: str) -> list[str]:
    """Sanitised question HTML as lines of plain text: the live pages build their DOM from text only (no HTML
    parsing in the browser, CSP-friendly), and the projector shows big plain type anyway."""
    text = unescape(strip_tags(_BLOCK_END.sub("\n", html or "")))
    return [line for line in (" ".join(part.split()) for part in text.split("\n")) if line]


def question_public(question: LiveQuestion) -> dict[str, Any]:
    """An open question as players see it: type, stem (sanitised HTML and as lines of text), options in the
    game's order, media — never the key."""
    snapshot = question.snapshot
    payload: dict[str, Any] = {
        "position": question.position, "type": snapshot.get("type"), "stem": snapshot.get("stem", ""),
        "lines": plain_lines(snapshot.get("stem", "")),
        "options": [{"id": o["id"], "text": " ".join(plain_lines(o["text"]))} for o in snapshot.get("options", [])]}
    if snapshot.get("media"):
        payload["media"] = snapshot["media"]
    return payload


def reveal_public(question: LiveQuestion) -> dict[str, Any]:
    """What the reveal of a closed question shows everybody (stored by ``question_close``)."""
    key = question.key or {}
    return {"position": question.position, "question": question_public(question),
            "correct": list(question.correct_ids), "explanation": key.get("explanation", ""),
            "citation": key.get("citation", ""), "distribution": question.distribution,
            "answered": question.answered, "correct_count": question.correct, "in_game": question.in_game,
            "top": question.top}


def top_rows(*, session_id: int, limit: int = TOP_N) -> list[dict[str, Any]]:
    return [{"rank": rank, "name": name, "score": str(score), "time_ms": time_ms, "status": status}
            for rank, name, score, time_ms, status in LivePlayer.objects.filter(session_id=session_id)
            .order_by("rank", "time_ms", "id").values_list("rank", "display_name", "score", "time_ms", "status")
            [:limit]]


def you_row(*, rank: int | None, score: Decimal, correct_count: int, streak: int, status: str,
            eliminated_at: int | None, points: Decimal | None = None, ok: bool | None = None) -> dict[str, Any]:
    return {"rank": rank, "score": str(score), "correct_count": correct_count, "streak": streak, "status": status,
            "eliminated_at": eliminated_at, "points": str(points) if points is not None else None, "ok": ok}


def you_json(**fields: Any) -> str:
    """``you_row`` as JSON text: events carry each player's part already encoded, so the hubs only concatenate."""
    return encode(you_row(**fields))


def you_rows(*, session_id: int, position: int | None) -> list[list[Any]]:
    """``[player id, you (JSON text)]`` for every player of the game, with their answer to ``position`` if any:
    the personal part of a reveal or of the final standings (one query, ~10,000 rows for a big game)."""
    player = LivePlayer._meta.db_table
    answer = LiveAnswer._meta.db_table
    sql = (f"SELECT p.id, p.rank, p.score, p.correct_count, p.streak, p.status, p.eliminated_at, a.points, "
           f"a.is_correct FROM {player} p LEFT JOIN {answer} a ON a.player_id = p.id AND a.position = %s "
           f"WHERE p.session_id = %s")
    with connection.cursor() as cursor:
        cursor.execute(sql, [position or 0, session_id])
        rows = cursor.fetchall()
    return [[pid, you_json(rank=rank, score=score, correct_count=correct, streak=streak, status=status,
                           eliminated_at=eliminated_at, points=points, ok=None if ok is None else bool(ok))]
            for pid, rank, score, correct, streak, status, eliminated_at, points, ok in rows]


def players_count(*, session_id: int) -> dict[str, int]:
    counts = LivePlayer.objects.filter(session_id=session_id).aggregate(
        total=Count("id"), active=Count("id", filter=Q(status=PlayerStatus.ACTIVE)))
    return {"players": counts["total"], "active": counts["active"]}


def lobby_names(*, session_id: int, limit: int = 24) -> list[str]:
    """The latest joiners' names (the presenter's lobby shows them arriving)."""
    return list(LivePlayer.objects.filter(session_id=session_id).order_by("-joined_at", "-id")
                .values_list("display_name", flat=True)[:limit])


def host_stats(*, session_id: int) -> dict[str, Any]:
    """Live counts for the host and presenter screens: players, still in the game, answers to the open
    question (polled about once a second by those screens only)."""
    session = LiveSession.objects.filter(pk=session_id).values("phase", "position").first()
    if session is None:
        return {}
    stats: dict[str, Any] = players_count(session_id=session_id)
    stats["answered"] = LiveAnswer.objects.filter(session_id=session_id, position=session["position"]).count() \
        if session["phase"] == Phase.QUESTION else None
    if session["phase"] == Phase.LOBBY:
        stats["names"] = lobby_names(session_id=session_id)
    return stats


def session_state(*, session: LiveSession, now: dt.datetime, question: LiveQuestion | None = None,
                  counts: dict[str, int] | None = None) -> dict[str, Any]:
    """The common part of a ``live.snapshot`` (every role): settings, phase, the open question without its key,
    or the last reveal, or the final top. ``question`` (the current one) and ``counts`` may be preloaded."""
    state: dict[str, Any] = {
        "title": session.title, "pin": session.pin, "mode": session.mode,
        "scoring": session.scoring, "streak_bonus": session.streak_bonus,
        "seconds": session.seconds_per_question, "join_policy": session.join_policy, "phase": session.phase,
        "position": session.position, "count": session.question_count, "paused": session.paused_at is not None,
        "remaining_ms": session.paused_remaining_ms if session.paused_at is not None else None,
        "server_time_ms": ms(now), **(counts or players_count(session_id=session.pk)),
    }
    if session.position:
        if question is None:
            question = LiveQuestion.objects.get(session_id=session.pk, position=session.position)
        if session.phase == Phase.QUESTION:
            state["question"] = question_public(question)
            state["opened_ms"], state["deadline_ms"] = ms(session.opened_at), ms(session.deadline)
        elif question.closed_at is not None:
            state["reveal"] = reveal_public(question)
    if session.phase == Phase.FINISHED:
        state["top"] = top_rows(session_id=session.pk)
    return state


def player_you(*, player: LivePlayer, session: LiveSession, answer: LiveAnswer | None = None,
               load_answer: bool = True) -> dict[str, Any]:
    """The player's own part of a snapshot: standing, and their answer to the current question (the outcome
    of that answer only once the question is closed)."""
    if answer is None and load_answer and session.position:
        answer = LiveAnswer.objects.filter(player=player, position=session.position).first()
    you = you_row(rank=player.rank, score=player.score, correct_count=player.correct_count, streak=player.streak,
                  status=player.status, eliminated_at=player.eliminated_at)
    you.update(player_id=player.pk, name=player.display_name, first_position=player.first_position,
               answered=answer.option_ids if answer is not None else None)
    if answer is not None and session.phase != Phase.QUESTION:
        you.update(points=str(answer.points), ok=answer.is_correct)
    return you


def results_rows(*, session_id: int) -> list[LivePlayer]:
    return list(LivePlayer.objects.filter(session_id=session_id).select_related("registration__unit")
                .order_by("rank", "time_ms", "id"))
