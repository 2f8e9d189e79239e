"""Wire format of the live-game sockets: limits, client-message parsing, close codes (docs/protocol.md, "Live
games"). Protocol-level errors reuse the exam socket's codes and texts (``realtime.protocol``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from realtime.protocol import ProtocolError, protocol_error

LIVE_PROTOCOL_VERSION = 1
MAX_FRAME_BYTES = 2048
MAX_OPTIONS = 10

CLOSE_REPLACED = 4001  # the same player opened the game on another tab or phone
CLOSE_NOT_AUTHENTICATED = 4401  # host or presenter screen without a login
CLOSE_FORBIDDEN = 4403  # not a player of this game / not a host of its organisation / no such game
CLOSE_POLICY_VIOLATION = 4408
CLOSE_FINISHED = 4410  # the game is over (the final standings were sent first)
CLOSE_SERVER_ERROR = 4500

PLAYER_TYPES = frozenset({"answer", "ping", "resync"})
CONTROL_TYPES = frozenset({"start", "next", "reveal", "pause", "resume", "rescue", "end"})


@dataclass(slots=True)
class Answer:
    position: int
    options: list[int]


@dataclass(slots=True)
class Ping:
    t: int | float | None


@dataclass(slots=True)
class Resync:
    pass


@dataclass(slots=True)
class Control:
    action: str  # one of CONTROL_TYPES ("start" is "next" from the lobby)
    kind: str = ""  # rescue: "question" | "best"
    position: int | None = None  # rescue by question
    count: int | None = None  # rescue of the best K


def _int(value: Any, *, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise protocol_error("invalid_field")
    return value


def parse(text: str | None, bytes_data: bytes | None = None) -> Answer | Ping | Resync | Control:
    """Parse one client frame (any role) or raise ``ProtocolError``; which types a role may send is the
    consumer's business."""
    if text is None:
        raise protocol_error("frame_too_large" if bytes_data and len(bytes_data) > MAX_FRAME_BYTES
                             else "binary_not_supported")
    if len(text) > MAX_FRAME_BYTES or (len(text) * 4 > MAX_FRAME_BYTES and len(text.encode()) > MAX_FRAME_BYTES):
        raise protocol_error("frame_too_large")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise protocol_error("malformed") from None
    if not isinstance(data, dict):
        raise protocol_error("not_an_object")
    kind = data.get("type")
    if kind == "answer":
        options = data.get("options")
        if not isinstance(options, list) or not 1 <= len(options) <= MAX_OPTIONS:
            raise protocol_error("invalid_field")
        return Answer(position=_int(data.get("position"), low=1, high=10_000),
                      options=[_int(o, low=1, high=2**62) for o in options])
    if kind == "ping":
        t = data.get("t")
        return Ping(t=t if isinstance(t, int | float) and not isinstance(t, bool) else None)
    if kind == "resync":
        return Resync()
    if kind in CONTROL_TYPES:
        if kind != "rescue":
            return Control(action=kind)
        rescue_kind = data.get("kind")
        if rescue_kind == "question":
            return Control(action=kind, kind=rescue_kind, position=_int(data.get("position"), low=1, high=10_000))
        if rescue_kind == "best":
            return Control(action=kind, kind=rescue_kind, count=_int(data.get("count"), low=1, high=1_000_000))
        raise protocol_error("invalid_field")
    raise protocol_error("unknown_type")


__all__ = ["Answer", "Control", "Ping", "ProtocolError", "Resync", "parse"]
