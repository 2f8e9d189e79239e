"""The end of a round, by the rules of issue 24: a ranking that depends on grading is proposable only once
recomputed from the final marks, a decision names its version and is refused when an input changed since, prizes
are decided with a reason, a publication is withdrawn or replaced at once, the approval page shows what is
approved."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.models import AuditEvent
from contests.models import Attempt, Round
from judging import errors
from judging.models import DecisionAction, RankingDecision
from judging.review import ReviewFlag, register_review_flags, unregister_review_flags
from judging.services.approval import (
    ranking_approve,
    ranking_prizes_set,
    ranking_propose,
    ranking_publish,
    ranking_recompute,
    ranking_revise,
    ranking_withdraw,
)
from leaderboards.models import RankingEntry, RankingStatus
from leaderboards.selectors import ranking_freshness
from leaderboards.services.ranking import ranking_compute
from tests.factories import make_staff
from tests.judging.conftest import grade_all, take_to_published

pytestmark = pytest.mark.django_db

PRIZES = {"first": 1, "second": 1, "third": 0, "encouragement": 1}


def scores(ranking) -> list[Decimal]:
    return list(RankingEntry.objects.filter(ranking=ranking).order_by("position").values_list("score", flat=True))


# --- 1. the ranking includes the essay marks ------------------------------------------------------------------


def test_a_ranking_computed_before_the_marks_is_not_proposable_until_recomputed(
        results, graded_round, judge_a, judge_a2, organiser_a):
    v1 = ranking_compute(round=results.round)  # the close job: every essay counted 0
    assert scores(v1) == [3, 2, 2, 1]
    with pytest.raises(errors.GradingIncomplete):
        ranking_propose(actor=judge_a, ranking=v1)
    grade_all(graded_round, [judge_a, judge_a2], ["1", "5", "0", "4.5"])
    assert ranking_freshness(ranking=v1).changes == 4  # one recorded change per final mark
    with pytest.raises(errors.RankingStale):
        ranking_propose(actor=judge_a, ranking=v1)
    v2 = ranking_recompute(actor=judge_a, round=results.round)
    assert v2.version == 2
    assert sorted(scores(v2), reverse=True) == scores(v2) == [Decimal("7"), Decimal("5.5"), Decimal("4"),
                                                              Decimal("2")]
    with pytest.raises(errors.NotCurrentVersion):
        ranking_propose(actor=judge_a, ranking=v1)
    with pytest.raises(errors.VersionMismatch):  # a form showing version 1 must not propose version 2
        ranking_propose(actor=judge_a, ranking=v2, version=1)
    ranking_propose(actor=judge_a, ranking=v2, version=2)
    assert RankingDecision.objects.filter(ranking=v2, action=DecisionAction.RECOMPUTE).exists()


def test_an_approval_is_refused_when_an_input_changed_after_the_proposal(results, judge_a, organiser_a):
    from leaderboards.services.disqualification import attempt_disqualify

    ranking = ranking_compute(round=results.round)
    ranking_propose(actor=judge_a, ranking=ranking)
    attempt_disqualify(actor=organiser_a, attempt=results.attempts[1], reason="Hai tài khoản")
    with pytest.raises(errors.RankingStale):
        ranking_approve(actor=organiser_a, ranking=ranking)
    ranking.refresh_from_db()
    assert ranking.status == RankingStatus.PROPOSED
    new = ranking_revise(actor=organiser_a, ranking=ranking, reason="Loại thí sinh dùng hai tài khoản")
    assert new.entry_count == ranking.entry_count - 1


def test_a_write_nobody_recorded_still_makes_the_ranking_stale(results, judge_a, organiser_a):
    """The deep check compares the stored entries with the attempts (e.g. a score changed from a shell)."""
    ranking = ranking_compute(round=results.round)
    ranking_propose(actor=judge_a, ranking=ranking)
    Attempt.objects.filter(pk=results.attempts[3].pk).update(score=Decimal("9"))
    assert not ranking_freshness(ranking=ranking).stale
    assert ranking_freshness(ranking=ranking, deep=True).mismatched == 1
    with pytest.raises(errors.RankingStale):
        ranking_approve(actor=organiser_a, ranking=ranking)


def test_every_writer_of_ranking_inputs_records_the_change(results, organiser_a, graded_round, judge_a, judge_a2):
    from contests.services.overrides import round_extend
    from leaderboards.services.disqualification import attempt_disqualify, disqualification_revoke
    from leaderboards.services.rescore import attempts_rescore_for_question

    def revision() -> int:
        return Round.objects.get(pk=results.round.pk).results_revision

    start = revision()
    grade_all(graded_round[:1], [judge_a, judge_a2], ["3"])
    assert revision() == start + 1
    decision = attempt_disqualify(actor=organiser_a, attempt=results.attempts[0], reason="Gian lận")
    assert revision() == start + 2
    disqualification_revoke(actor=organiser_a, disqualification=decision, reason="Nhầm")
    assert revision() == start + 3
    results.questions[0].options.update(fraction=Decimal("0"))  # every answer of question 1 becomes wrong
    attempts_rescore_for_question(question=results.questions[0])
    assert revision() == start + 4
    from django.utils import timezone

    round_extend(actor=organiser_a, round=results.round, until=timezone.now() + timezone.timedelta(days=1),
                 reason="Sự cố mạng")
    assert revision() == start + 5


# --- 4 and 5: what the organiser approves, prizes ---------------------------------------------------------------


def test_prizes_are_decided_with_a_reason_and_named_per_tier(results, judge_a, organiser_a):
    ranking = ranking_compute(round=results.round)
    with pytest.raises(errors.ReasonRequired):
        ranking_prizes_set(actor=organiser_a, ranking=ranking, prizes=PRIZES, reason=" ")
    with pytest.raises(errors.NotAllowed):
        ranking_prizes_set(actor=judge_a, ranking=ranking, prizes=PRIZES, reason="Thể lệ")
    with pytest.raises(errors.InvalidPrizes):
        ranking_prizes_set(actor=organiser_a, ranking=ranking, prizes={"first": -1}, reason="Thể lệ")
    same = ranking_prizes_set(actor=organiser_a, ranking=ranking, prizes=PRIZES, reason="Điều 8 Thể lệ",
                              collective_prizes={"entrants": 1})
    assert same.pk == ranking.pk  # a draft changes in place
    prizes = list(RankingEntry.objects.filter(ranking=ranking).order_by("position").values_list("prize", flat=True))
    assert prizes == ["first", "second", "encouragement", ""]
    decision = RankingDecision.objects.get(ranking=ranking, action=DecisionAction.PRIZES)
    assert decision.note == "Điều 8 Thể lệ"
    assert decision.data["after"]["prizes"] == PRIZES
    assert decision.data["before"]["prize_places"] == 0
    ranking_propose(actor=judge_a, ranking=ranking)
    newer = ranking_prizes_set(actor=organiser_a, ranking=ranking, prizes={"first": 2}, reason="Bổ sung giải")
    assert newer.version == 2
    assert newer.status == RankingStatus.DRAFT  # a locked version never changes
    assert AuditEvent.objects.filter(action="judging.ranking_prizes").count() == 2


def test_publishing_without_prizes_asks_first(results, judge_a, organiser_a):
    ranking = ranking_compute(round=results.round)
    ranking_propose(actor=judge_a, ranking=ranking)
    ranking_approve(actor=organiser_a, ranking=ranking)
    with pytest.raises(errors.PrizesNotConfirmed):
        ranking_publish(actor=organiser_a, ranking=ranking)
    assert ranking_publish(actor=organiser_a, ranking=ranking, without_prizes=True).status == RankingStatus.PUBLISHED


def test_the_results_page_shows_what_is_approved(client, results, judge_a, organiser_a, org_a):
    from leaderboards.services.disqualification import attempt_disqualify

    ranking = ranking_compute(round=results.round, prizes=PRIZES)
    attempt_disqualify(actor=organiser_a, attempt=results.attempts[3], reason="Hai tài khoản cùng số định danh")
    v2 = ranking_recompute(actor=organiser_a, round=results.round)

    def flags(*, round, ranking):
        return [ReviewFlag(label="Nghi vấn gian lận chưa xem xét", count=2, url="/anticheat/")]

    register_review_flags(flags)
    try:
        client.force_login(organiser_a)
        html = client.get(reverse("judging:round", kwargs={"round_id": results.round.pk})).content.decode()
    finally:
        unregister_review_flags(flags)
    assert "1 Giải Nhất, 1 Giải Nhì, 1 Giải Khuyến khích" in html
    assert "Trần Thị 0" in html
    assert "Giải Nhất" in html  # the ranking with names and prizes
    assert "Hai tài khoản cùng số định danh" in html  # the disqualification in force
    assert "Nghi vấn gian lận chưa xem xét" in html
    assert 'href="/anticheat/"' in html
    assert f"So với phiên bản {ranking.version}" in html  # the changes in words
    assert "không còn trong danh sách" in html
    assert v2.version == 2

    # Approving and publishing ask for a confirmation that repeats what is decided.
    take = reverse("judging:decide", kwargs={"ranking_id": v2.pk, "action": "approve"})
    ranking_propose(actor=judge_a, ranking=v2)
    page = client.post(take, {"version": v2.version})
    assert page.status_code == 200
    v2.refresh_from_db()
    assert v2.status == RankingStatus.PROPOSED  # nothing decided yet
    body = page.content.decode()
    assert "Xác nhận phê duyệt" in body
    assert "1 Giải Nhất" in body
    client.post(take, {"version": v2.version, "confirmed": "1"})
    v2.refresh_from_db()
    assert v2.status == RankingStatus.APPROVED


def test_a_refused_self_approval_is_a_clear_message_and_its_button_is_not_shown(client, results, org_a):
    both = make_staff(org_a, "judge", "organiser")
    ranking = ranking_compute(round=results.round)
    ranking_propose(actor=both, ranking=ranking)
    client.force_login(both)
    page = client.get(reverse("judging:round", kwargs={"round_id": results.round.pk})).content.decode()
    assert "không thể tự phê duyệt" in page
    assert reverse("judging:decide", kwargs={"ranking_id": ranking.pk, "action": "approve"}) not in page
    response = client.post(reverse("judging:decide", kwargs={"ranking_id": ranking.pk, "action": "approve"}),
                           {"version": ranking.version, "confirmed": "1"}, follow=True)
    assert response.status_code == 200  # not a bare 403
    assert "không thể tự phê duyệt" in response.content.decode()
    ranking.refresh_from_db()
    assert ranking.status == RankingStatus.PROPOSED


def test_a_disabled_proposal_says_why(client, results, graded_round, judge_a):
    ranking_compute(round=results.round)
    client.force_login(judge_a)
    html = client.get(reverse("judging:round", kwargs={"round_id": results.round.pk})).content.decode()
    assert 'id="btn-propose" disabled aria-describedby="ranking-blockers"' in html
    assert "Còn 4 bài tự luận chưa có điểm cuối cùng" in html


# --- 8. withdrawing, replacing --------------------------------------------------------------------------------


def test_withdrawal_takes_the_list_down_with_a_public_notice(client, results, judge_a, organiser_a):
    ranking = take_to_published(ranking_compute(round=results.round, prize_places=1), judge_a, organiser_a)
    url = reverse("judging:published", kwargs={"round_id": results.round.pk})
    assert "Trần Thị 0" in client.get(url).content.decode()
    with pytest.raises(errors.NoticeRequired):
        ranking_withdraw(actor=organiser_a, ranking=ranking, reason="Sai điểm tự luận", notice="")
    with pytest.raises(errors.NotAllowed):
        ranking_withdraw(actor=judge_a, ranking=ranking, reason="x", notice="y")
    ranking_withdraw(actor=organiser_a, ranking=ranking, reason="Sai điểm tự luận",
                     notice="Kết quả đang được rà soát lại, sẽ công bố lại sau.")
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Kết quả đang được rà soát lại" in html
    assert "Trần Thị 0" not in html
    assert AuditEvent.objects.get(action="judging.ranking_withdraw").reason == "Sai điểm tự luận"
    with pytest.raises(errors.NotPublished):
        ranking_withdraw(actor=organiser_a, ranking=ranking, reason="x", notice="y")


def test_a_corrected_version_replaces_the_published_one_at_once(client, results, judge_a, organiser_a):
    old = take_to_published(ranking_compute(round=results.round, prize_places=1), judge_a, organiser_a)
    new = ranking_revise(actor=organiser_a, ranking=old, reason="Phúc khảo bài của thí sinh số 3")
    old.refresh_from_db()
    assert old.status == RankingStatus.PUBLISHED  # public until the correction is published
    take_to_published(new, make_staff(results.round.contest.organisation, "judge"), organiser_a)
    old.refresh_from_db()
    assert old.status == RankingStatus.SUPERSEDED
    assert old.ended_at is not None
    assert "phiên bản 2" in old.public_notice
    assert RankingDecision.objects.filter(ranking=old, action=DecisionAction.SUPERSEDE).exists()
    html = client.get(reverse("judging:published", kwargs={"round_id": results.round.pk})).content.decode()
    assert "<dt>Phiên bản</dt><dd>2</dd>" in html
    assert "Phiên bản 1, công bố ngày" in html  # kept in the history
