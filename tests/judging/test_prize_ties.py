"""A prize line inside a tie the tie-break chain cannot break (issue 16): the organiser is told and chooses —
extend the prize to everyone tied, or a documented further criterion (more correct answers, a recorded draw by
lot) — and until then the ranking is neither proposed, approved nor published; never a silent cut."""

from __future__ import annotations

import hashlib

import pytest
from django.urls import reverse

from accounts.models import AuditEvent
from judging import errors
from judging.models import DecisionAction, RankingDecision
from judging.selectors import prize_boundary_ties, ranking_readiness
from judging.services.approval import (
    ranking_approve,
    ranking_prize_tie_decide,
    ranking_prizes_set,
    ranking_propose,
    ranking_publish,
    ranking_recompute,
)
from leaderboards.models import RankingEntry, RankingStatus, RoundRanking
from leaderboards.selectors import PrizeLineTie, prize_line_ties
from leaderboards.services.ranking import round_close
from tests.leaderboards.conftest import People, lb_round  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def tied(lb_round):  # noqa: F811
    """Person 1 alone first; 2, 3 and 4 equal on the whole tie-break chain (score, duration, submission time),
    2 with more correct answers than 3 and 4 (weighted questions); 5 last."""
    lb_round.contest.prediction_enabled = False
    lb_round.contest.save()
    lb_round.refresh_settings()
    people = People(lb_round)
    people.attempt(1, score="9", duration_ms=4000, correct=9)
    people.attempt(2, score="8", duration_ms=5000, correct=8)
    people.attempt(3, score="8", duration_ms=5000, correct=7)
    people.attempt(4, score="8", duration_ms=5000, correct=7)
    people.attempt(5, score="5", duration_ms=5000, correct=5)
    return round_close(round=lb_round)


def prizes_by_person(ranking) -> dict[str, str]:
    rows = RankingEntry.objects.filter(ranking=ranking).select_related("attempt__registration")
    return {e.attempt.registration.full_name[-1]: e.prize for e in rows}


def test_a_cut_inside_a_tie_is_reported_and_blocks_every_step_until_decided(tied, judge_a, organiser_a):
    ranking = ranking_prizes_set(actor=organiser_a, ranking=tied, prizes={"first": 1, "second": 1},
                                 reason="Điều 8 Thể lệ")
    assert [e.rank for e in RankingEntry.objects.filter(ranking=ranking).order_by("position")] == [1, 2, 2, 2, 5]
    assert prize_line_ties(ranking=ranking) == [
        PrizeLineTie(tier="second", rank=2, tied=3, inside=1, extended=0, rule="", resolved=False)]
    [notice] = prize_boundary_ties(ranking=ranking)
    assert not notice.resolved
    assert notice.text == ("Giải Nhì: 3 thí sinh đồng hạng 2 nhưng chỉ còn 1 suất; các tiêu chí xếp hạng phụ không "
                           "phân định được. Ban tổ chức cần chọn: trao giải cho cả 3 người, hoặc xét thêm một "
                           "tiêu chí.")
    assert not ranking_readiness(ranking=ranking).ok
    with pytest.raises(errors.PrizeTieUndecided):
        ranking_propose(actor=judge_a, ranking=ranking)
    assert RoundRanking.objects.get(pk=ranking.pk).status == RankingStatus.DRAFT
    # A version proposed before this check existed (the release before) is refused at approval and publication.
    RoundRanking.objects.filter(pk=ranking.pk).update(status=RankingStatus.PROPOSED)
    with pytest.raises(errors.PrizeTieUndecided):
        ranking_approve(actor=organiser_a, ranking=ranking)
    RoundRanking.objects.filter(pk=ranking.pk).update(status=RankingStatus.APPROVED)
    with pytest.raises(errors.PrizeTieUndecided):
        ranking_publish(actor=organiser_a, ranking=ranking)


def test_no_tie_at_a_line_no_notice(tied, judge_a, organiser_a):
    # The first line (1 | 2) and the second (2, 3, 4 | 5) fall between different ranks.
    ranking = ranking_prizes_set(actor=organiser_a, ranking=tied, prizes={"first": 1, "second": 3},
                                 reason="Điều 8 Thể lệ")
    assert prize_line_ties(ranking=ranking) == []
    assert prize_boundary_ties(ranking=ranking) == []
    ranking_propose(actor=judge_a, ranking=ranking)


def test_extending_gives_the_prize_to_everyone_tied_and_the_next_tier_keeps_its_count(tied, judge_a, organiser_a):
    ranking = ranking_prizes_set(actor=organiser_a, ranking=tied, prizes={"first": 1, "second": 1, "third": 1},
                                 reason="Điều 8 Thể lệ")
    with pytest.raises(errors.ReasonRequired):
        ranking_prize_tie_decide(actor=organiser_a, ranking=ranking, rule="extend", reason=" ")
    with pytest.raises(errors.InvalidPrizeTieRule):
        ranking_prize_tie_decide(actor=organiser_a, ranking=ranking, rule="", reason="Điều 9")
    with pytest.raises(errors.InvalidPrizeTieRule):
        ranking_prize_tie_decide(actor=organiser_a, ranking=ranking, rule="coin", reason="Điều 9")
    with pytest.raises(errors.NotAllowed):
        ranking_prize_tie_decide(actor=judge_a, ranking=ranking, rule="extend", reason="Điều 9")
    same = ranking_prize_tie_decide(actor=organiser_a, ranking=ranking, rule="extend", reason="Điều 9 Thể lệ")
    assert same.pk == ranking.pk  # a draft changes in place
    ranking.refresh_from_db()
    assert prizes_by_person(ranking) == {"1": "first", "2": "second", "3": "second", "4": "second", "5": "third"}
    assert prize_line_ties(ranking=ranking) == [
        PrizeLineTie(tier="second", rank=2, tied=3, inside=3, extended=2, rule="extend", resolved=True)]
    assert [n.text for n in prize_boundary_ties(ranking=ranking)] == [
        "Giải Nhì: trao cho cả 3 thí sinh đồng hạng 2 (thêm 2 giải so với cơ cấu giải)."]
    decision = RankingDecision.objects.get(ranking=ranking, action=DecisionAction.PRIZE_TIE)
    assert (decision.note, decision.data["before"], decision.data["after"]) == ("Điều 9 Thể lệ", "", "extend")
    assert decision.data["ties_before"][0]["resolved"] is False
    assert AuditEvent.objects.filter(action="judging.ranking_prize_tie", reason="Điều 9 Thể lệ").exists()
    ranking_propose(actor=judge_a, ranking=ranking)
    ranking_approve(actor=organiser_a, ranking=ranking)
    assert ranking_publish(actor=organiser_a, ranking=ranking).status == RankingStatus.PUBLISHED


def test_more_correct_answers_breaks_the_tie_or_leaves_it_undecided(tied, judge_a, organiser_a):
    ranking = ranking_prizes_set(actor=organiser_a, ranking=tied, prizes={"first": 1, "second": 1},
                                 reason="Điều 8 Thể lệ")
    ranking = ranking_prize_tie_decide(actor=organiser_a, ranking=ranking, rule="correct_count",
                                       reason="Điều 9 khoản 2")
    assert prizes_by_person(ranking) == {"1": "first", "2": "second", "3": "", "4": "", "5": ""}
    [tie] = prize_line_ties(ranking=ranking)
    assert tie.resolved
    assert tie.inside == 1
    assert tie.tied == 3
    # Two second prizes: the line now falls between 3 and 4, equal in correct answers too — undecided again.
    ranking = ranking_prizes_set(actor=organiser_a, ranking=ranking, prizes={"first": 1, "second": 2},
                                 reason="Bổ sung giải")
    [tie] = prize_line_ties(ranking=ranking)
    assert (tie.rule, tie.resolved, tie.tied, tie.inside) == ("correct_count", False, 3, 2)
    assert "cũng không phân định được" in prize_boundary_ties(ranking=ranking)[0].text
    with pytest.raises(errors.PrizeTieUndecided):
        ranking_propose(actor=judge_a, ranking=ranking)


def test_a_draw_by_lot_is_reproducible_from_its_recorded_seed(tied, judge_a, organiser_a):
    ranking = ranking_prizes_set(actor=organiser_a, ranking=tied, prizes={"first": 1, "second": 1},
                                 reason="Điều 8 Thể lệ")
    ranking_prize_tie_decide(actor=organiser_a, ranking=ranking, rule="lot", reason="Điều 9: bốc thăm")
    ranking.refresh_from_db()
    seed = ranking.prize_tie_seed
    assert len(seed) == 16
    decision = RankingDecision.objects.get(ranking=ranking, action=DecisionAction.PRIZE_TIE)
    assert decision.data["seed"] == seed
    tied_entries = list(RankingEntry.objects.filter(ranking=ranking, rank=2))

    def drawn(entry) -> str:
        return hashlib.md5(f"{seed}:{entry.attempt_id}".encode(), usedforsecurity=False).hexdigest()

    expected = min(tied_entries, key=drawn)
    assert [e.pk for e in tied_entries if e.prize == "second"] == [expected.pk]
    assert prize_line_ties(ranking=ranking)[0].resolved
    ranking_propose(actor=judge_a, ranking=ranking)


def test_the_decision_on_a_locked_version_makes_a_new_one_and_later_versions_keep_it(tied, judge_a, organiser_a):
    ranking = ranking_prizes_set(actor=organiser_a, ranking=tied, prizes={"first": 1, "second": 3},
                                 reason="Điều 8 Thể lệ")
    ranking_propose(actor=judge_a, ranking=ranking)
    # Fewer prizes now: a locked version never moves, the change makes version 2 (a draft) with the tie undecided.
    v2 = ranking_prizes_set(actor=organiser_a, ranking=ranking, prizes={"first": 1, "second": 1}, reason="Sửa")
    assert v2.version == 2
    assert not prize_line_ties(ranking=v2)[0].resolved
    with pytest.raises(errors.PrizeTieUndecided):
        ranking_propose(actor=judge_a, ranking=v2)
    same = ranking_prize_tie_decide(actor=organiser_a, ranking=v2, rule="extend", reason="Điều 9")
    assert same.pk == v2.pk
    ranking_propose(actor=judge_a, ranking=v2)
    v3 = ranking_prize_tie_decide(actor=organiser_a, ranking=v2, rule="correct_count", reason="Điều 9, sửa")
    assert (v3.version, v3.status, v3.prize_tie_rule) == (3, RankingStatus.DRAFT, "correct_count")
    assert RoundRanking.objects.get(pk=v2.pk).prize_tie_rule == "extend"  # the locked version is unchanged
    v4 = ranking_recompute(actor=judge_a, round=tied.round)
    assert v4.prize_tie_rule == "correct_count"
    assert prizes_by_person(v4) == {"1": "first", "2": "second", "3": "", "4": "", "5": ""}


def test_the_results_page_tells_the_organiser_and_takes_the_decision(client, tied, organiser_a, judge_a):
    ranking = ranking_prizes_set(actor=organiser_a, ranking=tied, prizes={"first": 1, "second": 1},
                                 reason="Điều 8 Thể lệ")
    url = reverse("judging:round", kwargs={"round_id": tied.round_id})
    client.force_login(judge_a)
    page = client.get(url).content.decode()
    assert "3 thí sinh đồng hạng 2 nhưng chỉ còn 1 suất" in page
    assert 'id="prize-tie-form"' not in page  # judges are told, organisers decide
    client.force_login(organiser_a)
    page = client.get(url).content.decode()
    assert 'id="prize-tie-form"' in page
    assert "<script" not in page.split('id="prize-ties"')[1].split("</div>")[0]
    post = reverse("judging:prize_tie", kwargs={"ranking_id": ranking.pk})
    client.post(post, {"tie-rule": "extend", "tie-reason": ""})
    assert RoundRanking.objects.get(pk=ranking.pk).prize_tie_rule == ""  # no reason: nothing changed
    response = client.post(post, {"tie-rule": "extend", "tie-reason": "Điều 9 Thể lệ"}, follow=True)
    assert "Đã quyết định cách xử lý đồng hạng cho phiên bản 1." in response.content.decode()
    assert "trao cho cả 3 thí sinh đồng hạng 2" in response.content.decode()
    assert RoundRanking.objects.get(pk=ranking.pk).prize_tie_rule == "extend"


def test_another_organisations_organiser_cannot_decide(client, tied, organiser_b):
    ranking = RoundRanking.objects.get(pk=tied.pk)
    client.force_login(organiser_b)
    response = client.post(reverse("judging:prize_tie", kwargs={"ranking_id": ranking.pk}),
                           {"tie-rule": "extend", "tie-reason": "Điều 9"})
    assert response.status_code == 404
    assert RoundRanking.objects.get(pk=ranking.pk).prize_tie_rule == ""
