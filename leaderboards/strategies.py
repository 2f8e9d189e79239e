"""Attempt-selection policies and tie-break orders, registered by name.

Both are used in three places that must agree exactly: the official ranking in SQL
(``services.ranking``), the live boards (``services.live``: the Redis Lua script and the in-process
backend) and the tests' reference implementation. A new policy or order is a new class here.

Order keys (``TieBreak.keys``) name columns of the candidate rows in the ranking SQL:
``score`` (desc), ``prediction`` (|prediction − target| asc; an attempt without a prediction sorts after
every attempt with one), ``duration`` (server-measured, asc), ``submitted_at`` (asc). The attempt id is
always the final, deterministic listing key but never makes two rows rank differently.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

# Larger than any |prediction − target| (both fit in 32 bits): "no prediction" sorts last on every DB.
NO_PREDICTION_DISTANCE = 1 << 40

_SQL_COLUMNS = {
    "score": "score DESC",
    "prediction": f"COALESCE(dist, {NO_PREDICTION_DISTANCE}) ASC",
    "duration": "duration_ms ASC",
    "submitted_at": "submitted_at ASC",
}


@dataclass(frozen=True)
class TieBreak:
    """An order of the tie-break keys. ``with_prediction`` False drops the prediction key (live boards,
    rounds without a prediction question)."""

    keys: tuple[str, ...]

    def effective(self, *, with_prediction: bool) -> tuple[str, ...]:
        return tuple(k for k in self.keys if with_prediction or k != "prediction")

    def sql(self, *, with_prediction: bool) -> str:
        """ORDER BY terms over the candidate columns (``score``, ``dist``, ``duration_ms``, ``submitted_at``)."""
        return ", ".join(_SQL_COLUMNS[k] for k in self.effective(with_prediction=with_prediction))

    def python_key(self, row: dict, *, with_prediction: bool) -> tuple:
        """Sort key of a row dict with keys score, dist, duration_ms, submitted_at (ascending = better)."""
        parts: list = []
        for k in self.effective(with_prediction=with_prediction):
            if k == "score":
                parts.append(-Decimal(row["score"]))
            elif k == "prediction":
                parts.append(NO_PREDICTION_DISTANCE if row.get("dist") is None else row["dist"])
            elif k == "duration":
                parts.append(row["duration_ms"])
            else:
                parts.append(row["submitted_at"])
        return tuple(parts)


def tie_break_for(order: list[str] | tuple[str, ...]) -> TieBreak:
    keys = tuple(order)
    if sorted(keys) != sorted(_SQL_COLUMNS):
        raise ValueError(f"invalid tie-break order {order!r}")
    return TieBreak(keys)


# The live board always uses this order (the prediction target is unknown until close).
LIVE_ORDER = TieBreak(("score", "duration", "submitted_at"))


@dataclass(frozen=True)
class SelectionPolicy:
    """Which of a person's finished attempts counts. ``sql_order(rank_sql)`` orders one person's attempts
    so that the counted one comes first; ``live_rule`` is what the live boards' compare-and-set applies."""

    name: str
    live_rule: str  # "min_number" | "max_number" | "best_key"

    def sql_order(self, rank_sql: str) -> str:
        if self.name == "first":
            return "number ASC, id ASC"
        if self.name == "last":
            return "number DESC, id DESC"
        return f"{rank_sql}, id ASC"

    def prefers(self, *, new_number: int, new_key: str, cur_number: int, cur_key: str) -> bool:
        """Python twin of the Lua rule: does the new attempt replace the current counted one?"""
        if self.live_rule == "min_number":
            return new_number < cur_number
        if self.live_rule == "max_number":
            return new_number > cur_number
        return new_key < cur_key


POLICIES: dict[str, SelectionPolicy] = {
    "first": SelectionPolicy("first", "min_number"),
    "best": SelectionPolicy("best", "best_key"),
    "last": SelectionPolicy("last", "max_number"),
}


def policy_for(name: str) -> SelectionPolicy:
    try:
        return POLICIES[name]
    except KeyError as exc:
        raise ValueError(f"unknown attempt-selection policy {name!r}") from exc
