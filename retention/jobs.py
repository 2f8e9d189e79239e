"""Periodic jobs of retention (run by ``manage.py run_worker``)."""

from __future__ import annotations

from contest_engine.periodic import periodic
from retention.services import retention_run


@periodic(every_seconds=60 * 60)
def anonymise_contests_past_retention() -> int:
    """Retention: anonymise the personal data of contests whose ``personal_data_retention_days`` have passed."""
    return len(retention_run())
