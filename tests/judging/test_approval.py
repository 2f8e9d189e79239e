"""Result approval: judges propose (ranking locked), organisers approve and publish; returns and revisions
are audited and need approval again; the published list masks phone and ID numbers."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import AuditEvent
from judging import errors
from judging.models import DecisionAction, RankingDecision
from judging.services.approval import (
    ranking_approve,
    ranking_propose,
    ranking_publish,
    ranking_return,
    ranking_revise,
)
from leaderboards.models import RankingStatus
from leaderboards.services.ranking import ranking_is_locked
from tests.factories import make_staff

pytestmark = pytest.mark.django_db


def published_version(page) -> int:
    """The version the public list says it shows."""
    import re

    found = re.search(r"<dt>Phiên bản</dt><dd>(\d+)</dd>", page.content.decode())
    assert found, "the public list names its version"
    return int(found.group(1))


def test_full_workflow_locks_and_audits(ranking, judge_a, organiser_a):
    assert not ranking_is_locked(ranking)
    ranking_propose(actor=judge_a, ranking=ranking, note="Đã rà soát")
    ranking.refresh_from_db()
    assert ranking.status == RankingStatus.PROPOSED
    assert ranking_is_locked(ranking)
    ranking_approve(actor=organiser_a, ranking=ranking)
    ranking_publish(actor=organiser_a, ranking=ranking)
    ranking.refresh_from_db()
    assert ranking.status == RankingStatus.PUBLISHED
    assert list(RankingDecision.objects.filter(ranking=ranking).values_list("action", "to_status")) == [
        ("propose", "proposed"), ("approve", "approved"), ("publish", "published")]
    actions = set(AuditEvent.objects.filter(target_type="leaderboards.roundranking").values_list("action", flat=True))
    assert {"judging.ranking_propose", "judging.ranking_approve", "judging.ranking_publish"} <= actions


def test_roles_are_enforced(ranking, judge_a, organiser_a, organiser_b, citizen, org_b):
    for user in (organiser_a, organiser_b, citizen, make_staff(org_b, "judge")):
        with pytest.raises(errors.NotAllowed):
            ranking_propose(actor=user, ranking=ranking)
    ranking_propose(actor=judge_a, ranking=ranking)
    for user in (judge_a, organiser_b, citizen):
        with pytest.raises(errors.NotAllowed):
            ranking_approve(actor=user, ranking=ranking)


def test_the_proposer_cannot_approve_their_own_proposal(ranking, org_a):
    both = make_staff(org_a, "judge", "organiser")
    ranking_propose(actor=both, ranking=ranking)
    with pytest.raises(errors.NotAllowed):
        ranking_approve(actor=both, ranking=ranking)


def test_transitions_follow_the_order(ranking, judge_a, organiser_a):
    with pytest.raises(errors.InvalidTransition):
        ranking_approve(actor=organiser_a, ranking=ranking)
    with pytest.raises(errors.InvalidTransition):
        ranking_publish(actor=organiser_a, ranking=ranking)
    ranking_propose(actor=judge_a, ranking=ranking)
    with pytest.raises(errors.InvalidTransition):
        ranking_propose(actor=judge_a, ranking=ranking)
    with pytest.raises(errors.ReasonRequired):
        ranking_return(actor=organiser_a, ranking=ranking, reason=" ")
    ranking_return(actor=organiser_a, ranking=ranking, reason="Kiểm tra lại thí sinh số 3")
    ranking.refresh_from_db()
    assert ranking.status == RankingStatus.DRAFT
    assert not ranking_is_locked(ranking)


def test_revision_after_publication_needs_approval_again(ranking, judge_a, organiser_a, results, client):
    ranking_propose(actor=judge_a, ranking=ranking)
    ranking_approve(actor=organiser_a, ranking=ranking)
    ranking_publish(actor=organiser_a, ranking=ranking)
    with pytest.raises(errors.ReasonRequired):
        ranking_revise(actor=organiser_a, ranking=ranking, reason="")
    with pytest.raises(errors.NotAllowed):
        ranking_revise(actor=judge_a, ranking=ranking, reason="Sửa đáp án câu 2")
    new = ranking_revise(actor=organiser_a, ranking=ranking, reason="Sửa đáp án câu 2")
    assert new.version == ranking.version + 1
    assert new.status == RankingStatus.DRAFT
    assert RankingDecision.objects.get(action=DecisionAction.REVISE).ranking == ranking
    event = AuditEvent.objects.get(action="judging.ranking_revise")
    assert event.reason == "Sửa đáp án câu 2"
    assert event.data["status"] == "published"
    assert event.data["new_version"] == new.version
    # The old version can no longer move; the published page keeps the published version until the new
    # one is approved and published.
    with pytest.raises(errors.NotCurrentVersion):
        ranking_revise(actor=organiser_a, ranking=ranking, reason="lần nữa")
    page = client.get(reverse("judging:published", kwargs={"round_id": results.round.pk}))
    assert published_version(page) == ranking.version
    with pytest.raises(errors.InvalidTransition):
        ranking_publish(actor=organiser_a, ranking=new)
    ranking_propose(actor=judge_a, ranking=new)
    ranking_approve(actor=organiser_a, ranking=new)
    ranking_publish(actor=organiser_a, ranking=new)
    page = client.get(reverse("judging:published", kwargs={"round_id": results.round.pk}))
    assert published_version(page) == new.version


def test_published_list_masks_phone_and_id_numbers(ranking, judge_a, organiser_a, results, client):
    url = reverse("judging:published", kwargs={"round_id": results.round.pk})
    assert client.get(url).status_code == 404  # nothing published yet
    ranking_propose(actor=judge_a, ranking=ranking)
    ranking_approve(actor=organiser_a, ranking=ranking)
    assert client.get(url).status_code == 404
    ranking_publish(actor=organiser_a, ranking=ranking)
    html = client.get(url).content.decode()
    for registration in results.registrations:
        assert registration.user.phone not in html
        assert registration.national_id not in html
        assert "*******" + registration.user.phone[-3:] in html
        assert "*********" + registration.national_id[-3:] in html
    assert "Trần Thị 0" in html


def test_approval_pages_respect_tenancy(ranking, judge_a, organiser_a, organiser_b, citizen, results, client):
    page = reverse("judging:round", kwargs={"round_id": results.round.pk})
    propose = reverse("judging:decide", kwargs={"ranking_id": ranking.pk, "action": "propose"})
    client.force_login(organiser_b)
    assert client.get(page).status_code == 404
    assert client.post(propose).status_code == 404
    client.force_login(citizen)
    assert client.get(page).status_code == 403
    assert client.post(propose).status_code == 403
    client.force_login(organiser_a)
    assert client.get(page).status_code == 200
    assert client.post(propose).status_code == 403  # organisers do not propose
    client.force_login(judge_a)
    assert client.post(propose).status_code == 302
    ranking.refresh_from_db()
    assert ranking.status == RankingStatus.PROPOSED
    client.logout()
    assert client.get(page).status_code == 302
