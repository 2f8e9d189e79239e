"""Joining a game (PIN or QR code), and the signed player token that lets any server process serve the player.

A player is told who they are by an HttpOnly cookie holding a signed ``[session id, player id]``
(``player_token``): checking it needs no database or Redis round trip, so a socket handshake on any server
process can trust it, and a reconnect — the same phone, another process — is the same player with the same
score. In a game for registered contestants the socket also requires the player's own login session.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from typing import Any

from django.core import signing
from django.db import IntegrityError, connection, transaction
from django.db.models import F

from contests.models import Registration
from contests.services._common import resolve_now
from live import errors
from live.models import JoinPolicy, LateJoin, LivePlayer, LiveQuestion, LiveSession, Phase

TOKEN_SALT = "live.player"  # noqa: S105 - a signing namespace, not a secret
TOKEN_MAX_AGE = 24 * 3600
NICKNAME_MIN, NICKNAME_MAX = 2, 30


def cookie_name(session_id: int) -> str:
    return f"ce_live_{int(session_id)}"


def player_token(*, session_id: int, player_id: int) -> str:
    return signing.dumps([int(session_id), int(player_id)], salt=TOKEN_SALT, compress=False)


def player_from_token(token: str | None, *, session_id: int) -> int | None:
    """The player id a token names for ``session_id``, or None (missing, forged, expired, other game)."""
    if not token:
        return None
    try:
        value = signing.loads(token, salt=TOKEN_SALT, max_age=TOKEN_MAX_AGE)
    except signing.BadSignature:
        return None
    if (not isinstance(value, list) or len(value) != 2 or not all(isinstance(v, int) for v in value)
            or value[0] != int(session_id)):
        return None
    return value[1]


def nickname_clean(raw: str) -> str:
    """Spaces collapsed, control and format characters refused, 2–30 characters. Raises NicknameInvalid."""
    text = " ".join(unicodedata.normalize("NFC", str(raw or "")).split())
    if not NICKNAME_MIN <= len(text) <= NICKNAME_MAX or any(unicodedata.category(c)[0] == "C" for c in text):
        raise errors.NicknameInvalid()
    return text


def name_key(name: str) -> str:
    return unicodedata.normalize("NFC", name).casefold()


def session_by_pin(*, pin: str) -> LiveSession:
    pin = (pin or "").strip().replace(" ", "")
    session = LiveSession.objects.filter(pin=pin).exclude(phase=Phase.FINISHED).first() \
        if pin.isdigit() and len(pin) == 6 else None
    if session is None:
        raise errors.SessionNotFound()
    return session


def _locked_shared(session_id: int) -> LiveSession:
    """The session row, share-locked on PostgreSQL: joins run side by side, but never while the host opens or
    closes a question (those take FOR UPDATE), so the phase read here is the phase the join happens in."""
    queryset = LiveSession.objects.filter(pk=session_id)
    if connection.vendor == "postgresql":
        sql, params = queryset.query.sql_with_params()
        return LiveSession.objects.raw(f"{sql} FOR SHARE", params)[0]
    return queryset.get()


def player_join(*, session: LiveSession, user: Any = None, nickname: str = "",
                now: dt.datetime | None = None) -> tuple[LivePlayer, bool]:
    """Join ``session`` (or come back to it): returns (player, created).

    Anonymous games take a nickname (unique in the game, case-insensitive); games for registered contestants
    take the logged-in ``user``'s registration in the session's contest (the name comes from it) and give
    the same player back on a second join. Late joiners start from the current question (its answers still
    count if it is open) with no points; the session's late-join policy may close joining once it started.
    Raises SessionFinished, JoinClosed, NicknameInvalid, NicknameTaken, LoginRequired, NotRegistered.
    """
    now = resolve_now(now)
    registered = session.join_policy == JoinPolicy.REGISTERED
    if registered:
        if not getattr(user, "is_authenticated", False):
            raise errors.LoginRequired()
        existing = LivePlayer.objects.filter(session_id=session.pk, user_id=user.pk).first()
        if existing is not None:
            return existing, False
        registration = Registration.objects.filter(user_id=user.pk, contest_id=session.contest_id).first()
        if registration is None:
            raise errors.NotRegistered()
        name = registration.full_name
    else:
        registration = None
        name = nickname_clean(nickname)
    with transaction.atomic():
        locked = _locked_shared(session.pk)
        if locked.phase == Phase.FINISHED:
            raise errors.SessionFinished()
        if locked.phase != Phase.LOBBY and locked.late_join == LateJoin.LOBBY:
            raise errors.JoinClosed()
        # A late joiner may still answer the open question; after its reveal, the next one.
        first = max(1, locked.position if locked.phase == Phase.QUESTION else locked.position + 1)
        key = name_key(name) if not registered else f"#registration:{registration.pk}"
        try:
            with transaction.atomic():
                player = LivePlayer.objects.create(
                    session_id=locked.pk, user=user if registered else None, registration=registration,
                    display_name=name, name_key=key, first_position=first, joined_at=now)
        except IntegrityError:
            if registered:  # a second tab joined at the same moment
                return LivePlayer.objects.get(session_id=session.pk, user_id=user.pk), False
            raise errors.NicknameTaken() from None
        if locked.phase == Phase.QUESTION:
            LiveQuestion.objects.filter(session_id=locked.pk, position=locked.position).update(
                in_game=F("in_game") + 1)
    return player, True


# --- personal data (accounts.services registries) ---------------------------------------------------------------
def personal_data_export(user: Any) -> dict[str, Any]:
    """The live games a person played as a registered contestant (anonymous players are not linked to anyone)."""
    rows = (LivePlayer.objects.filter(user_id=user.pk).select_related("session")
            .order_by("joined_at").values_list("session__title", "display_name", "joined_at", "score", "rank"))
    return {"live_games": [{"game": title, "name": name, "joined_at": joined.isoformat(), "score": str(score),
                            "rank": rank} for title, name, joined, score, rank in rows]}


def personal_data_anonymise(user: Any) -> None:
    """Account deletion: the person's players keep their results but no longer name them."""
    for player in LivePlayer.objects.filter(user_id=user.pk).only("id"):
        LivePlayer.objects.filter(pk=player.pk).update(display_name="Người dùng đã xoá",
                                                       name_key=f"#deleted:{player.pk}", user=None)
