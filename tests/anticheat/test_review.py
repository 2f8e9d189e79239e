"""The judges' side: the review queue (scoped, sorted, filtered, counted), the timeline page, decisions that
are reasoned, audited and reversible — a disqualification reuses leaderboards' and the official ranking
follows it — and the number of unreviewed high flags the approval page shows."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent
from anticheat import errors, selectors
from anticheat.checks.inexam import FlagSpec
from anticheat.models import AttemptReview, Flag, FlagKind, ReviewDecision, ReviewStatus, RoundCheckSettings, Severity
from anticheat.services import attempt_review_decide, attempt_review_revert, flags_store
from contests.models import AttemptStatus
from leaderboards.models import Disqualification, RankingEntry
from leaderboards.services.ranking import ranking_compute, ranking_current
from tests.exports.factories import results_round
from tests.factories import make_staff
from tests.tenancy_harness import assert_admin_isolated, assert_pages_isolated

pytestmark = pytest.mark.django_db


@pytest.fixture
def judge_a(org_a):
    return make_staff(org_a, "judge")


@pytest.fixture
def judge_b(org_b):
    return make_staff(org_b, "judge")


@pytest.fixture
def flagged(org_a):
    data = results_round(org_a)
    ranking_compute(round=data.round)
    a0, a1, a2 = data.attempts[:3]
    flags_store(round=data.round, kinds=[FlagKind.FAST_ANSWERS, FlagKind.FOCUS_LOSS, FlagKind.ANSWER_COPYING],
                attempt_ids=None, settings={"x": 1}, now=timezone.now(), specs=[
                    FlagSpec(a1.pk, FlagKind.FOCUS_LOSS, Severity.WARN, 9.0, {"total": 9}),
                    FlagSpec(a0.pk, FlagKind.FAST_ANSWERS, Severity.HIGH, 0.9, {"share": 0.9}),
                    FlagSpec(a0.pk, FlagKind.FOCUS_LOSS, Severity.INFO, 3.0, {"total": 3}),
                    FlagSpec(a2.pk, FlagKind.ANSWER_COPYING, Severity.HIGH, 7.5, {"network": "113.161.42.0/24"})])
    return data


def entry_attempts(round):
    return set(RankingEntry.objects.filter(ranking=ranking_current(round=round)).values_list("attempt_id", flat=True))


def test_disqualify_then_revert_with_reasons_moves_the_official_ranking(flagged, judge_a):
    target = flagged.attempts[0]
    assert target.pk in entry_attempts(flagged.round)
    assert selectors.unreviewed_high_flags_count(round_id=flagged.round.pk) == 2

    review = attempt_review_decide(actor=judge_a, attempt=target, action="disqualify", reason="Trả lời trong 1 giây")
    target.refresh_from_db()
    assert target.status == AttemptStatus.DISQUALIFIED
    assert review.status == ReviewStatus.DISQUALIFIED
    assert review.disqualification.in_force
    assert target.pk not in entry_attempts(flagged.round)
    assert ranking_current(round=flagged.round).version == 2
    assert selectors.unreviewed_high_flags_count(round_id=flagged.round.pk) == 1
    audit = AuditEvent.objects.get(action="anticheat.review_disqualify")
    assert audit.reason == "Trả lời trong 1 giây"
    assert audit.data["ranking_version"] == 2
    assert AuditEvent.objects.filter(action="leaderboards.attempt_disqualified", target_id=str(target.pk)).exists()

    with pytest.raises(errors.AlreadyDecided):
        attempt_review_decide(actor=judge_a, attempt=target, action="clear", reason="x")
    with pytest.raises(errors.ReasonRequired):
        attempt_review_revert(actor=judge_a, attempt=target, reason="  ")

    attempt_review_revert(actor=judge_a, attempt=target, reason="Thí sinh chứng minh được")
    target.refresh_from_db()
    assert target.status == AttemptStatus.SUBMITTED
    assert not Disqualification.objects.filter(attempt=target, revoked_at__isnull=True).exists()
    assert target.pk in entry_attempts(flagged.round)
    assert ranking_current(round=flagged.round).version == 3
    assert [d.action for d in ReviewDecision.objects.filter(attempt=target)] == ["disqualify", "revert"]
    assert AuditEvent.objects.filter(action="anticheat.review_revert").count() == 1
    assert selectors.unreviewed_high_flags_count(round_id=flagged.round.pk) == 2


def test_a_locked_ranking_is_not_recomputed_silently(flagged, judge_a):
    ranking = ranking_current(round=flagged.round)
    ranking.status = "proposed"
    ranking.save(update_fields=["status"])
    attempt_review_decide(actor=judge_a, attempt=flagged.attempts[0], action="disqualify", reason="Bot")
    assert ranking_current(round=flagged.round).version == 1


@pytest.mark.parametrize(("action", "status"), [("clear", ReviewStatus.CLEARED),
                                           ("identity_check", ReviewStatus.IDENTITY_CHECK)])
def test_clear_and_identity_check_leave_the_attempt_counted(flagged, judge_a, action, status):
    target = flagged.attempts[2]
    review = attempt_review_decide(actor=judge_a, attempt=target, action=action, reason="Đã gọi điện xác minh")
    target.refresh_from_db()
    assert (review.status, target.status) == (status, AttemptStatus.SUBMITTED)
    assert AuditEvent.objects.filter(action=f"anticheat.review_{action}", target_id=str(target.pk)).exists()
    assert selectors.unreviewed_high_flags_count(round_id=flagged.round.pk) == 1


def test_decisions_need_a_reason_rights_and_a_flag(flagged, judge_a, judge_b, citizen):
    target = flagged.attempts[0]
    with pytest.raises(errors.ReasonRequired):
        attempt_review_decide(actor=judge_a, attempt=target, action="clear", reason=" ")
    with pytest.raises(errors.InvalidAction):
        attempt_review_decide(actor=judge_a, attempt=target, action="delete", reason="x")
    for outsider in (judge_b, citizen):
        with pytest.raises(errors.PermissionDenied):
            attempt_review_decide(actor=outsider, attempt=target, action="disqualify", reason="x")
    with pytest.raises(errors.NotFlagged):
        attempt_review_decide(actor=judge_a, attempt=flagged.attempts[3], action="clear", reason="x")
    with pytest.raises(errors.NothingToRevert):
        attempt_review_revert(actor=judge_a, attempt=target, reason="x")
    target.refresh_from_db()
    assert target.status == AttemptStatus.SUBMITTED
    assert not AttemptReview.objects.exclude(status=ReviewStatus.UNREVIEWED).exists()


def test_the_queue_is_sorted_by_severity_filtered_and_counted(flagged, judge_a, client):
    a0, a1, a2 = flagged.attempts[:3]
    queue = selectors.review_queue(round=flagged.round)
    assert [r.attempt_id for r in queue.rows] == [a2.pk, a0.pk, a1.pk]  # high (score 7.5), high (0.9), warn
    assert queue.counts_by_severity == {"info": 1, "warn": 1, "high": 2}
    assert {k: c for k, _label, c in queue.counts_by_kind}[FlagKind.FOCUS_LOSS] == {"warn": 1, "info": 1}
    assert [r.attempt_id for r in selectors.review_queue(round=flagged.round, kind=FlagKind.FOCUS_LOSS).rows] == \
        [a0.pk, a1.pk]
    assert [r.attempt_id for r in selectors.review_queue(round=flagged.round, unit_id=a1.unit_id).rows] == [a1.pk]
    client.force_login(judge_a)
    html = client.get(reverse("anticheat:queue", args=[flagged.round.pk]), {"kind": FlagKind.ANSWER_COPYING}) \
        .content.decode()
    assert f"#{a2.pk}" in html
    assert f"#{a0.pk}" not in html
    assert 'id="unreviewed-high">2<' in html


def test_the_timeline_page_shows_the_flags_and_the_answers(flagged, judge_a, client):
    client.force_login(judge_a)
    html = client.get(reverse("anticheat:timeline", args=[flagged.attempts[0].pk])).content.decode()
    assert "Trả lời nhanh hơn thời gian đọc" in html
    assert 'id="timeline"' in html
    assert html.count('class="ev-answer"') == 3  # the stored answers, when no answer events were kept
    response = client.post(reverse("anticheat:decide", args=[flagged.attempts[0].pk]),
                           {"action": "disqualify", "reason": ""})
    assert response.status_code == 302
    flagged.attempts[0].refresh_from_db()
    assert flagged.attempts[0].status == AttemptStatus.SUBMITTED  # no reason, nothing changed


def test_pages_are_isolated_between_organisations(flagged, judge_a, judge_b, client, citizen):
    attempt = flagged.attempts[0]
    assert_pages_isolated(
        client, own_user=judge_a, foreign_user=judge_b,
        get=[reverse("anticheat:queue", args=[flagged.round.pk]), reverse("anticheat:timeline", args=[attempt.pk])],
        post=[(reverse("anticheat:decide", args=[attempt.pk]), {"action": "disqualify", "reason": "x"}),
              (reverse("anticheat:revert", args=[attempt.pk]), {"reason": "x"}),
              (reverse("anticheat:analyse", args=[flagged.round.pk]), {})],
        unchanged=[attempt])
    client.force_login(citizen)
    assert client.get(reverse("anticheat:queue", args=[flagged.round.pk])).status_code == 403


def test_admin_is_isolated(flagged, organiser_b, client):
    flag = Flag.objects.filter(round=flagged.round).first()
    assert_admin_isolated(client, flag, foreign_user=organiser_b)
    settings_row = RoundCheckSettings.objects.create(round=flagged.round, overrides={"regular_cv_high": 0.05})
    assert_admin_isolated(client, settings_row, foreign_user=organiser_b)


def test_the_approval_page_shows_the_unreviewed_high_flags(flagged, judge_a, client):
    client.force_login(judge_a)
    html = client.get(reverse("judging:round", args=[flagged.round.pk])).content.decode()
    assert 'id="review-flags"' in html
    queue = reverse("anticheat:queue", args=[flagged.round.pk])
    assert f'href="{queue}?review=unreviewed">Cảnh báo gian lận mức nghiêm trọng chưa xem xét</a>: 2' in html
    for attempt in flagged.attempts[0], flagged.attempts[2]:
        attempt_review_decide(actor=judge_a, attempt=attempt, action="clear", reason="Đã xem, bình thường")
    html = client.get(reverse("judging:round", args=[flagged.round.pk])).content.decode()
    assert "Cảnh báo gian lận mức nghiêm trọng chưa xem xét" not in html
