"""Connect-time work of many player sockets at once: load the players and their games, claim presence, build
the snapshots. A join storm (10,000 phones scanning the QR code within a minute) costs a handful of queries
and one Redis pipeline per batch instead of several queries per socket. Runs in a batcher thread."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Count, Q

from live import selectors
from live.hub import PRESENCE_TTL_SECONDS, presence_claim, redis_client
from live.models import JoinPolicy, LiveAnswer, LivePlayer, LiveQuestion, LiveSession, PlayerStatus
from realtime import events


@dataclass(frozen=True, slots=True)
class OpenRequest:
    session_id: int
    player_id: int
    user_id: int  # the socket's logged-in user (0: anonymous)
    conn_id: str


@dataclass(slots=True)
class Opened:
    """``snapshot`` is None when the player is not in that game (or, in a game for registered contestants,
    is not the logged-in user)."""

    snapshot: dict[str, Any] | None
    previous: str = ""
    finished: bool = False


def players_open_batch(*, items: Sequence[OpenRequest], now: dt.datetime) -> list[Opened]:
    sessions = LiveSession.objects.in_bulk({item.session_id for item in items})
    players = LivePlayer.objects.in_bulk({item.player_id for item in items})
    wanted = {(s.pk, s.position) for s in sessions.values() if s.position}
    questions = {(q.session_id, q.position): q for q in LiveQuestion.objects.filter(
        session_id__in=[sid for sid, _ in wanted], position__in=[pos for _, pos in wanted])
        if (q.session_id, q.position) in wanted}
    answers = {(a.player_id, a.position): a for a in LiveAnswer.objects.filter(
        player_id__in=list(players), position__in=[pos for _, pos in wanted])}
    counts = {row["session_id"]: {"players": row["total"], "active": row["active"]} for row in
              LivePlayer.objects.filter(session_id__in=list(sessions)).values("session_id").order_by()
              .annotate(total=Count("id"), active=Count("id", filter=Q(status=PlayerStatus.ACTIVE)))}
    states: dict[int, dict[str, Any]] = {}
    results: list[Opened] = []
    claims: list[tuple[int, OpenRequest]] = []
    for item in items:
        session, player = sessions.get(item.session_id), players.get(item.player_id)
        if (session is None or player is None or player.session_id != session.pk
                or (session.join_policy == JoinPolicy.REGISTERED and player.user_id != item.user_id)):
            results.append(Opened(snapshot=None))
            continue
        if session.pk not in states:
            states[session.pk] = selectors.session_state(
                session=session, now=now, question=questions.get((session.pk, session.position)),
                counts=counts.get(session.pk, {"players": 0, "active": 0}))
        snapshot = events.live_event(events.LIVE_SNAPSHOT, session_id=session.pk, seq=session.seq,
                                     role="player", **states[session.pk])
        snapshot["you"] = selectors.player_you(player=player, session=session,
                                               answer=answers.get((player.pk, session.position)), load_answer=False)
        claims.append((len(results), item))
        results.append(Opened(snapshot=snapshot, finished=session.is_finished))
    for index, previous in zip((i for i, _ in claims), _claim_many([item for _, item in claims]), strict=True):
        results[index].previous = previous
    return results


def _claim_many(items: list[OpenRequest]) -> list[str]:
    """``live.hub.presence_claim`` for many sockets in one Redis round trip."""
    client = redis_client()
    if client is None or not items:
        return [presence_claim(i.session_id, i.player_id, i.conn_id) for i in items]
    prefix = getattr(settings, "REDIS_PREFIX", "ce")
    pipe = client.pipeline(transaction=False)
    for item in items:
        pipe.set(f"{prefix}:live-conn:{item.session_id}:{item.player_id}", item.conn_id, ex=PRESENCE_TTL_SECONDS,
                 get=True)
    out = []
    for previous in pipe.execute():
        out.append(previous.decode() if isinstance(previous, bytes) else (previous or ""))
    return out
