"""Periodic jobs of the question bank (run by ``manage.py run_worker``; see contest_engine.periodic)."""

from __future__ import annotations

from contest_engine.periodic import periodic
from questionbank.services.imports import import_uploads_purge


@periodic(every_seconds=3600)
def purge_abandoned_import_uploads() -> int:
    """Files uploaded for an import preview that was never confirmed are deleted after a day."""
    return import_uploads_purge()
