"""The host and presenter sockets' calls: who may open a game's screens, and the controls, mapped onto the
game services (each of which checks the host's role again — the socket is not trusted to have done it)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from live import errors, selectors
from live.models import LiveSession
from live.services import game
from live.services.sessions import is_host
from realtime import events


def host_open(*, session_id: int, user: Any, role: str, now: dt.datetime) -> dict[str, Any] | None:
    """The host's or presenter's snapshot, or None when there is no such game or ``user`` is not an organiser
    or judge of its organisation (the two cases are indistinguishable on purpose)."""
    session = LiveSession.objects.filter(pk=session_id).first()
    if session is None or not is_host(user, session.organisation_id):
        return None
    snapshot = events.live_event(events.LIVE_SNAPSHOT, session_id=session.pk, seq=session.seq, role=role,
                                 **selectors.session_state(session=session, now=now))
    snapshot["stats"] = selectors.host_stats(session_id=session.pk)
    return snapshot


def host_control(*, session_id: int, user: Any, control: Any, now: dt.datetime) -> dict[str, Any]:
    """Run one host control (``live.protocol.Control``); returns the event it broadcast. Raises LiveError."""
    action = control.action
    if action in ("start", "next"):
        if action == "start" and LiveSession.objects.filter(pk=session_id).exclude(phase="lobby").exists():
            raise errors.WrongPhase()
        return game.question_next(session_id=session_id, actor=user, now=now)
    if action == "reveal":
        game.question_close(session_id=session_id, actor=user, now=now, force=True)
        return {"v": LiveSession.objects.filter(pk=session_id).values_list("seq", flat=True).first()}
    if action == "pause":
        return game.game_pause(session_id=session_id, actor=user, now=now)
    if action == "resume":
        return game.game_resume(session_id=session_id, actor=user, now=now)
    if action == "rescue":
        return game.players_rescue(session_id=session_id, actor=user, kind=control.kind,
                                   from_position=control.position, count=control.count, now=now)
    if action == "end":
        return game.game_end(session_id=session_id, actor=user, now=now)
    raise errors.WrongPhase()
