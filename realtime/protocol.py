"""Wire format of the exam socket: limits, client-message parsing, typed errors and close codes.

docs/protocol.md is the human description of this module; keep them in step. Parsing is strict and
cheap: a message is a JSON object of at most ``MAX_FRAME_BYTES`` with a known ``type``; anything else
becomes a typed error for *this* connection only.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from contests.errors import InvalidPrediction, InvalidSequence

PROTOCOL_VERSION = 1
# Minor version: 1.1 added the client's ``evidence`` message (docs/protocol.md); old clients are unaffected.
PROTOCOL_MINOR = 1
MAX_FRAME_BYTES = 8 * 1024
# What the ASGI server is told to accept at most (daphne --websocket-max-message-size, uvicorn --ws-max-size):
# frames up to this size reach the consumer and get a typed ``frame_too_large``; larger ones are refused by
# the server itself, which closes the connection with 1009 ("message too big") before Python sees them.
SERVER_MAX_MESSAGE_BYTES = 64 * 1024
# Token bucket per connection: BURST messages at once, refilled at RATE per second. The burst lets a
# client resend every unacknowledged answer of a 30-question exam at once after a reconnect.
RATE_BURST = 40
RATE_PER_SECOND = 20.0
# After this many protocol violations (malformed, oversized, rate-limited, unknown) the socket is closed.
MAX_VIOLATIONS = 20
MAX_SEQ = 2**53 - 1  # what a JavaScript number holds exactly
# Evidence messages (v1.1) have a bucket of their own, so they can never use up the answers' budget:
# EVIDENCE_BURST at once, EVIDENCE_PER_SECOND sustained, at most EVIDENCE_PER_CONNECTION per connection.
# Over a limit they are dropped silently (they are never answered and never count as violations).
EVIDENCE_BURST = 10
EVIDENCE_PER_SECOND = 1.0
EVIDENCE_PER_CONNECTION = 300
EVIDENCE_KINDS = frozenset({"hidden", "blur", "fullscreen_exit", "copy", "paste", "reload"})

# --- close codes (4000–4999 are the application's) ---------------------------------------------
CLOSE_NORMAL = 1000
CLOSE_SESSION_REPLACED = 4001  # a newer connection for the same attempt took over
CLOSE_NOT_AUTHENTICATED = 4401  # no valid session: log in again
CLOSE_FORBIDDEN = 4403  # attempt not found or not yours (indistinguishable on purpose)
CLOSE_ATTEMPT_FINISHED = 4410  # attempt already submitted: go to the result page
CLOSE_POLICY_VIOLATION = 4408  # too many bad frames / too fast
CLOSE_SERVER_ERROR = 4500  # an application may only send 1000 or 3000–4999 (Channels refuses 1011)

# --- message types -------------------------------------------------------------------------------
CLIENT_TYPES = frozenset({"answer", "prediction", "submit", "ping", "resync", "next", "evidence"})


class ProtocolError(Exception):
    """A bad client message. ``code`` is stable (clients switch on it); ``message`` is Vietnamese."""

    def __init__(self, code: str, message: str, *, seq: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.seq = seq


def error_messages() -> dict[str, str]:
    """code → Vietnamese message for the protocol-level errors (domain errors bring their own)."""
    return {
        "malformed": _("Tin nhắn không hợp lệ (không phải JSON)."),
        "not_an_object": _("Tin nhắn phải là một đối tượng JSON."),
        "frame_too_large": _("Tin nhắn quá lớn."),
        "binary_not_supported": _("Không hỗ trợ tin nhắn nhị phân."),
        "unknown_type": _("Loại tin nhắn không được hỗ trợ."),
        "invalid_field": _("Thiếu hoặc sai trường dữ liệu."),
        "invalid_seq": str(InvalidSequence.default_message),
        "invalid_prediction": str(InvalidPrediction.default_message),
        "rate_limited": _("Bạn gửi quá nhanh, vui lòng chờ một chút."),
        "not_authenticated": _("Phiên đăng nhập đã hết hạn, vui lòng đăng nhập lại."),
        "attempt_not_found": _("Không tìm thấy bài thi."),
        "storage_unavailable": _("Máy chủ tạm thời chưa lưu được câu trả lời, sẽ thử lại."),
        "attempt_finished": _("Bài thi đã kết thúc."),
        "server_error": _("Lỗi máy chủ, vui lòng thử lại."),
        "submit_failed": _("Máy chủ chưa nộp được bài thi, đang thử lại…"),
    }


def protocol_error(code: str, *, seq: int | None = None) -> ProtocolError:
    return ProtocolError(code, error_messages()[code], seq=seq)


def error_event(code: str, message: str, *, seq: int | None = None, **extra: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {"type": "error", "code": code, "message": str(message)}
    if seq is not None:
        payload["seq"] = seq
    payload.update(extra)
    return payload


def server_time_ms() -> int:
    return time.time_ns() // 1_000_000


# --- parsing -------------------------------------------------------------------------------------
@dataclass(slots=True)
class Answer:
    seq: int
    position: int  # 1-based position of the question in the attempt, as in the snapshot
    response: Any


@dataclass(slots=True)
class Prediction:
    seq: int
    value: int


@dataclass(slots=True)
class Submit:
    seq: int | None


@dataclass(slots=True)
class Ping:
    t: int | float | None


@dataclass(slots=True)
class Resync:
    pass


@dataclass(slots=True)
class Next:
    pass


@dataclass(slots=True)
class Evidence:
    """v1.1: something the page saw (``kind`` in EVIDENCE_KINDS; anything else parses as ``kind=""``, which the
    consumer drops). ``position`` is the question on screen, when the client knows it."""

    kind: str
    position: int | None


def _int_field(data: dict[str, Any], name: str, *, seq: int | None, required: bool = True,
               low: int = 0, high: int = MAX_SEQ, out_of_range: str = "invalid_field") -> int | None:
    """An integer field: missing or not an integer → ``invalid_field``; an integer outside [low, high] →
    ``out_of_range`` (the field's own documented code, e.g. ``invalid_seq``)."""
    value = data.get(name)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise protocol_error("invalid_field", seq=seq)
    if not (low <= value <= high):
        raise protocol_error(out_of_range, seq=seq)
    return value


def _seq(data: dict[str, Any], *, required: bool = True) -> int | None:
    return _int_field(data, "seq", seq=None, required=required, low=1, out_of_range="invalid_seq")


def parse(text: str | None,
          bytes_data: bytes | None = None) -> Answer | Prediction | Submit | Ping | Resync | Next | Evidence:
    """Parse one client frame or raise ``ProtocolError``."""
    if text is None:
        if bytes_data is not None and len(bytes_data) > MAX_FRAME_BYTES:
            raise protocol_error("frame_too_large")
        raise protocol_error("binary_not_supported")
    # len(str) ≤ bytes ≤ 4·len(str); check the cheap bound first, encode only when close.
    if len(text) > MAX_FRAME_BYTES or (len(text) * 4 > MAX_FRAME_BYTES and len(text.encode()) > MAX_FRAME_BYTES):
        raise protocol_error("frame_too_large")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise protocol_error("malformed") from None
    if not isinstance(data, dict):
        raise protocol_error("not_an_object")
    kind = data.get("type")
    raw_seq = data.get("seq")
    seq = raw_seq if isinstance(raw_seq, int) and not isinstance(raw_seq, bool) else None
    if kind == "answer":
        seq = _seq(data)
        if "response" not in data:
            raise protocol_error("invalid_field", seq=seq)
        position = _int_field(data, "position", seq=seq, low=1, high=10_000)
        return Answer(seq=seq, position=position, response=data["response"])  # type: ignore[arg-type]
    if kind == "ping":
        t = data.get("t")
        return Ping(t=t if isinstance(t, int | float) and not isinstance(t, bool) else None)
    if kind == "prediction":
        seq = _seq(data)
        value = data.get("value")
        # Anything but an integer ≥ 0 is the documented invalid_prediction (a negative number was invalid_field).
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10**12:
            raise protocol_error("invalid_prediction", seq=seq)
        return Prediction(seq=seq, value=value)  # type: ignore[arg-type]
    if kind == "submit":
        return Submit(seq=_seq(data, required=False))
    if kind == "resync":
        return Resync()
    if kind == "next":
        return Next()
    if kind == "evidence":
        evidence_kind = data.get("kind")
        position = data.get("position")
        return Evidence(kind=evidence_kind if evidence_kind in EVIDENCE_KINDS else "",
                        position=position if isinstance(position, int) and not isinstance(position, bool)
                        and 1 <= position <= 10_000 else None)
    raise protocol_error("unknown_type", seq=seq)


class TokenBucket:
    """Per-connection rate limit; two floats, no allocation per message."""

    __slots__ = ("allowance", "burst", "rate", "stamp")

    def __init__(self, burst: int = RATE_BURST, rate: float = RATE_PER_SECOND) -> None:
        self.burst, self.rate = float(burst), rate
        self.allowance = float(burst)
        self.stamp = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.allowance = min(self.burst, self.allowance + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.allowance < 1.0:
            return False
        self.allowance -= 1.0
        return True
