"""Tenant isolation of the exports and judging admins (shared harness)."""

from __future__ import annotations

import pytest

from exports.models import ContestExport, ExportJob, ParticipantExport, QuestionExport
from exports.services import export_job_request, export_job_run
from judging.models import EssayGradingSettings, RankingDecision
from tests.factories import make_staff
from tests.tenancy_harness import assert_admin_closed, assert_admin_isolated, assert_admin_read_only

pytestmark = pytest.mark.django_db


@pytest.fixture
def foreign_objects(org_b, export_media):
    """Objects of organisation B, seen through every admin of exports and judging."""
    from judging.services.approval import ranking_propose
    from leaderboards.services.ranking import ranking_compute
    from tests.exports.factories import results_round

    data = results_round(org_b, people=2)
    organiser = make_staff(org_b, "organiser")
    job = export_job_run(job_id=export_job_request(actor=organiser, contest=data.round.contest,
                                                   round=data.round).pk)
    ranking = ranking_compute(round=data.round)
    ranking_propose(actor=make_staff(org_b, "judge"), ranking=ranking)
    return [
        job,
        QuestionExport.objects.get(pk=data.questions[0].pk),
        ContestExport.objects.get(pk=data.round.contest.pk),
        ParticipantExport.objects.get(pk=data.registrations[0].pk),
        EssayGradingSettings.objects.create(round=data.round),
        RankingDecision.objects.get(ranking=ranking),
    ]


def test_staff_of_a_cannot_reach_objects_of_b(client, organiser_a, foreign_objects):
    judge = make_staff(organiser_a.memberships.get().organisation, "judge")
    for obj in foreign_objects:
        assert_admin_isolated(client, obj, foreign_user=organiser_a)
        assert_admin_isolated(client, obj, foreign_user=judge, check_positive=False)


def test_citizens_are_sent_to_the_admin_login(client, citizen, foreign_objects):
    for obj in foreign_objects:
        assert_admin_closed(client, obj, user=citizen)


def test_export_jobs_are_read_only_history_for_judges(client, org_b, foreign_objects):
    job = next(o for o in foreign_objects if isinstance(o, ExportJob))
    assert_admin_read_only(client, job, user=make_staff(org_b, "judge"))
