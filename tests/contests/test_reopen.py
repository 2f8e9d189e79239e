"""Reopening or extending a round: refusals name the field and say why; a round closed early (a mistyped date)
is reopened with an audit entry and ranked again at its new close; once its results are published it cannot be,
and the refusal says what can be done instead."""

from __future__ import annotations

import datetime as dt

import pytest

from accounts.models import AuditEvent
from contests import errors
from contests.models import OverrideGrant, Round
from contests.services.attempts.finish import attempt_submit
from contests.services.attempts.start import attempt_start
from contests.services.overrides import override_extra_attempt, override_extra_time, round_extend
from leaderboards.models import RankingStatus, RoundRanking
from leaderboards.services.ranking import round_close

pytestmark = pytest.mark.django_db


def _refusal(call) -> errors.OverrideInvalid:
    with pytest.raises(errors.OverrideInvalid) as info:
        call()
    assert info.value.message != str(errors.OverrideInvalid.default_message)
    return info.value


def test_every_refusal_names_the_field_and_why(organiser_a, round_, registration, now):
    past = _refusal(lambda: round_extend(actor=organiser_a, round=round_, until=now - dt.timedelta(minutes=1),
                                         reason="x", now=now))
    assert past.field == "until"
    assert "trong tương lai" in past.message
    shorter = _refusal(lambda: round_extend(actor=organiser_a, round=round_, until=round_.closes_at
                                            - dt.timedelta(hours=1), reason="x", now=now))
    assert shorter.field == "until"
    assert "muộn hơn" in shorter.message
    from django.utils import formats, timezone

    assert formats.date_format(timezone.localtime(round_.closes_at), "SHORT_DATETIME_FORMAT") in shorter.message
    minutes = _refusal(lambda: override_extra_time(actor=organiser_a, registration=registration, round=round_,
                                                   seconds=0, reason="x", now=now))
    assert minutes.field == "minutes"
    assert "1440" in minutes.message
    count = _refusal(lambda: override_extra_attempt(actor=organiser_a, registration=registration, round=round_,
                                                    count=11, reason="x", now=now))
    assert count.field == "count"
    assert not OverrideGrant.objects.exists()


def test_a_round_closed_early_by_a_mistyped_date_is_reopened_and_ranked_again(organiser_a, contest, round_, citizen,
                                                                              registration, now):
    # 03/12 read as 12 March: the round closed at once and was ranked.
    round_.closes_at = now - dt.timedelta(minutes=30)
    round_.opens_at = now - dt.timedelta(hours=2)
    round_.save()
    first = round_close(round=round_, now=now)
    assert first.version == 1
    first.status = RankingStatus.PROPOSED  # a judge had already proposed it
    first.save(update_fields=["status"])
    # The organiser corrects the date: the round stays closed until it is reopened.
    round_.refresh_from_db()
    round_.closes_at = now + dt.timedelta(days=3)
    round_.save()
    with pytest.raises(errors.RoundNotOpen):
        attempt_start(user=citizen, round=Round.objects.get(pk=round_.pk), now=now)
    # Reopening until a moment before the corrected close is refused, on the field, with the close.
    early = _refusal(lambda: round_extend(actor=organiser_a, round=round_, until=now + dt.timedelta(days=1),
                                          reason="Nhập nhầm ngày", now=now))
    assert early.field == "until"
    round_extend(actor=organiser_a, round=round_, until=round_.closes_at, reason="Nhập nhầm ngày", now=now)
    round_.refresh_from_db()
    assert round_.closed_at is None
    assert round_.extended_until is None  # the corrected close is the close
    assert round_.prediction_target_value is None
    event = AuditEvent.objects.get(action="contests.round_reopened")
    assert event.reason == "Nhập nhầm ngày"
    attempt = attempt_start(user=citizen, round=round_, now=now + dt.timedelta(minutes=1))
    attempt_submit(attempt=attempt, now=now + dt.timedelta(minutes=5))
    # At the new close the official ranking is computed again, as a revision of the proposed version.
    second = round_close(round=round_, now=round_.closes_at + dt.timedelta(minutes=3))
    assert second.version == 2
    assert second.status == RankingStatus.DRAFT
    assert second.entry_count == 1
    assert "mở lại" in second.revision_reason
    assert round_close(round=round_, now=round_.closes_at + dt.timedelta(minutes=4)).pk == second.pk


def test_a_round_with_published_results_is_not_reopened(organiser_a, round_, now):
    round_.closes_at = now - dt.timedelta(minutes=30)
    round_.opens_at = now - dt.timedelta(hours=2)
    round_.save()
    ranking = round_close(round=round_, now=now)
    RoundRanking.objects.filter(pk=ranking.pk).update(status=RankingStatus.PUBLISHED)
    with pytest.raises(errors.RoundResultsPublished) as info:
        round_extend(actor=organiser_a, round=round_, until=now + dt.timedelta(days=1), reason="x", now=now)
    assert "Tính lại kết quả" in info.value.message  # what can be done instead
    assert "đợt thi bổ sung" in info.value.message
    round_.refresh_from_db()
    assert round_.closed_at is not None
    assert not OverrideGrant.objects.exists()
