"""Item and test statistics computed in a second process while the main one streams the big sheets.

``contests.statistics.round_statistics`` walks every drawn question of the round in Python
(about 10 s per million answers): run in line it is the one part of the workbook that is not streaming.
Outside a transaction (the export job, the command) it runs in a *spawned* process (a fresh interpreter:
no inherited connections, threads or open files) on the other core while the ranking and answers are
written; its rows (``exports.selectors.StatisticsRows``, ~40 per round) come back through a pipe. Any
failure falls back to computing in line.
"""

from __future__ import annotations

import logging
import multiprocessing
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import connection

logger = logging.getLogger(__name__)


def _child(round_id: int | None, contest_id: int | None, db_name: str, pipe: Any) -> None:
    import django

    django.setup()
    from django.db import connections

    # Only now: this runs first in a fresh (spawned) process, where models load after django.setup().
    from exports.selectors import export_target, statistics_rows

    try:
        connections["default"].settings_dict["NAME"] = db_name
        target = export_target(round_id=round_id, contest_id=contest_id)
        pipe.send(("ok", statistics_rows(target=target)))
    except BaseException as exc:
        pipe.send(("error", repr(exc)))
    finally:
        pipe.close()
        connections.close_all()


def item_statistics_in_background(*, round_id: int | None, contest_id: int | None) -> Callable[[], Any] | None:
    """Start the computation; returns a function that waits for the ``StatisticsRows`` (or None: compute in
    line)."""
    if connection.vendor != "postgresql" or connection.in_atomic_block or not getattr(
            settings, "EXPORTS_PARALLEL_STATISTICS", True):
        return None
    try:
        context = multiprocessing.get_context("spawn")
        receiver, sender = context.Pipe(duplex=False)
        process = context.Process(target=_child, name="export-item-statistics", daemon=True,
                                  args=(round_id, contest_id, connection.settings_dict["NAME"], sender))
        process.start()
        sender.close()
    except Exception:
        logger.warning("item statistics: cannot start a process, computing in line", exc_info=True)
        return None

    def result() -> Any:
        try:
            if not receiver.poll(timeout=1800):
                raise TimeoutError("item statistics process gave no answer")
            status, payload = receiver.recv()
        finally:
            receiver.close()
            process.join(timeout=10)
        if status != "ok":
            raise RuntimeError(payload)
        return payload

    return result
