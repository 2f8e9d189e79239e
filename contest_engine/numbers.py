"""One rule for showing scores, counts and durations to people (pages, certificates, the live board).

Vietnamese conventions: decimal comma (``9,5``), ``.`` between thousands (``12.345``), no trailing zeros
(``7``, not ``7.000``), never an exponent (a ``Decimal("1E+1")`` is ``10``). Durations are shown as
``mm:ss`` below an hour and ``h:mm:ss`` above, **truncated** to the whole second: an attempt of 47.787 s is
``00:47`` on every page, board and certificate (the ranking itself compares milliseconds; the display never
rounds a time up, as a stopwatch would not). ``static/js/numbers.js`` is the same rule for the browser.

Workbooks do not use these strings: they write numeric cells with a number format (exports/).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

SCORE_DECIMALS = 3  # scores are stored with at most 3 decimals (contests.models)


def _as_decimal(value: object) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def _group_thousands(digits: str) -> str:
    head = len(digits) % 3 or 3
    parts = [digits[:head]] + [digits[i : i + 3] for i in range(head, len(digits), 3)]
    return ".".join(parts)


def format_number(value: object, *, decimals: int = SCORE_DECIMALS) -> str:
    """``Decimal('9.500')`` → ``9,5``; ``Decimal('1E+1')`` → ``10``; ``12345`` → ``12.345``; ``None`` → ``""``.

    Rounds half away from zero to ``decimals`` places, then drops trailing zeros. Anything that is not a
    number is returned as text unchanged, so a template never fails on a placeholder such as "—".
    """
    number = _as_decimal(value)
    if number is None:
        return "" if value is None else str(value)
    if not number.is_finite():
        return str(value)
    quantum = Decimal(1).scaleb(-decimals)
    number = number.quantize(quantum, rounding="ROUND_HALF_UP")
    sign = "-" if number < 0 else ""
    text = format(abs(number), "f")
    whole, _, fraction = text.partition(".")
    fraction = fraction.rstrip("0")
    if not fraction and whole == "0":
        sign = ""  # no "-0"
    return sign + _group_thousands(whole) + ("," + fraction if fraction else "")


def format_score(value: object) -> str:
    """A score or mark: up to 3 decimals, Vietnamese separators (``7``, ``7,5``, ``8,333``)."""
    return format_number(value, decimals=SCORE_DECIMALS)


def format_count(value: object) -> str:
    """A whole number of people, attempts…: ``0`` stays ``0``; ``12345`` → ``12.345``."""
    return format_number(value, decimals=0)


def format_duration_ms(value: object) -> str:
    """Milliseconds → ``mm:ss`` (under an hour) or ``h:mm:ss``, truncated to the whole second."""
    number = _as_decimal(value)
    if number is None or not number.is_finite() or number < 0:
        return ""
    seconds = int(number) // 1000
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes:02d}:{secs:02d}"


def format_percent(ratio: object, *, decimals: int = 1) -> str:
    """A share (0.125) as a percentage with the same separators: ``12,5%``; ``1`` → ``100%``; ``None`` → ``""``."""
    number = _as_decimal(ratio)
    if number is None or not number.is_finite():
        return "" if ratio is None else str(ratio)
    return format_number(number * 100, decimals=decimals) + "%"
