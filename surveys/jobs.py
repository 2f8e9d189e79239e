"""Periodic jobs of surveys (run by ``manage.py run_worker``)."""

from __future__ import annotations

from contest_engine.periodic import periodic
from surveys.services import survey_responses_unlink_expired


@periodic(every_seconds=60 * 60)
def unlink_expired_survey_responses() -> int:
    """Retention: remove the account link of responses whose survey closed long enough ago."""
    return survey_responses_unlink_expired()
