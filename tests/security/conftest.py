"""A complete tenant "world": one object of every tenant-owned kind for an organisation.

The security tests build the world of organisation B and check that staff of organisation A (holding every
role there) can reach none of it — in the admin and in every staff view.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from accounts.models import AuditEvent, Membership, Organisation, Role
from contests.models import Answer, AttemptQuestion, OverrideGrant
from questionbank.models import Visibility
from tests.contests.factories import QuestionFactory
from tests.exports.factories import ResultsData, results_round
from tests.factories import make_staff
from tests.realtime.conftest import (  # noqa: F401 - session fixture: closes asgiref's thread connection
    _close_asgiref_thread_connection,
)
from tests.surveys.factories import make_survey

ALL_ROLES = tuple(Role.values)


@dataclass
class World:
    org: Organisation
    staff: Any  # holds every role in ``org``
    results: ResultsData
    private_question: Any
    objects: dict[str, Any]  # model label → one object of that model owned by ``org``

    @property
    def round(self) -> Any:
        return self.results.round

    @property
    def contest(self) -> Any:
        return self.results.round.contest


def build_world(org: Organisation) -> World:
    """Every tenant-owned object of ``org``: a closed round with attempts, a published ranking with a decision,
    an essay assignment, an export job, overrides, a disqualification, settings rows, an audit event."""
    from exports.models import ContestExport, ExportJob, ParticipantExport, QuestionExport
    from judging.models import EssayAssignment, EssayGradingSettings, RankingDecision
    from judging.services.essays import essay_assignments_create
    from leaderboards.models import (
        ContestLeaderboardSettings,
        Disqualification,
        RankingEntry,
        RankingStatus,
        RoundRanking,
    )
    from leaderboards.services.ranking import ranking_compute

    staff = make_staff(org, *ALL_ROLES)
    results = results_round(org)
    round_, contest = results.round, results.round.contest
    now = timezone.now()
    private_question = QuestionFactory(organisation=org, visibility=Visibility.PRIVATE,
                                       stem="<p>Câu hỏi riêng của tổ chức B</p>")

    essay = QuestionFactory(organisation=org, type="essay", stem="<p>Trình bày quyền con người.</p>")
    for attempt in results.attempts[:2]:
        aq = AttemptQuestion.objects.create(attempt=attempt, position=4, question=essay, points=Decimal(5),
                                            snapshot={"type": "essay", "stem": essay.stem}, key={},
                                            shown_at=attempt.started_at)
        Answer.objects.create(attempt=attempt, attempt_question=aq, response={"text": "Bài tự luận."},
                              client_seq=9, received_at=attempt.started_at + dt.timedelta(seconds=60),
                              is_correct=None, points_awarded=Decimal(0))
    essay_settings = EssayGradingSettings.objects.create(round=round_, threshold=Decimal("1.00"))
    essay_assignments_create(round=round_)

    ranking = ranking_compute(round=round_, prize_places=2)
    RoundRanking.objects.filter(pk=ranking.pk).update(status=RankingStatus.PUBLISHED)
    ranking.refresh_from_db()
    assert RankingEntry.objects.filter(ranking=ranking, is_winner=True).exists()
    decision = RankingDecision.objects.create(ranking=ranking, action="propose", from_status="draft",
                                              to_status="proposed", actor=staff, at=now)
    from anticheat.models import Flag, ReviewDecision, RoundCheckSettings
    from judging.models import CertificateSettings, Complaint, EssayGrade, EssayGuide

    assignment = EssayAssignment.objects.filter(round=round_).order_by("pk").first()
    EssayGrade.objects.create(assignment=assignment, grader=staff, cycle=1, slot=1, mark=Decimal(2), graded_at=now)
    RoundRanking.objects.filter(pk=ranking.pk).update(published_at=now)
    registration = results.registrations[0]
    objects = {
        "accounts.Organisation": org,
        "accounts.Membership": Membership.objects.filter(user=staff, organisation=org).first(),
        "accounts.User": staff,
        "accounts.AuditEvent": AuditEvent.objects.create(organisation=org, actor=staff, action="security.test"),
        "questionbank.Question": private_question,
        "contests.Contest": contest,
        "contests.Round": round_,
        "contests.Registration": registration,
        "contests.Attempt": results.attempts[0],
        "contests.OverrideGrant": OverrideGrant.objects.create(
            kind="extra_time", contest=contest, round=round_, registration=registration, extra_seconds=60,
            reason="Mất điện", actor=staff, created_at=now),
        "leaderboards.RoundRanking": ranking,
        "leaderboards.Disqualification": Disqualification.objects.create(
            scope="attempt", contest=contest, registration=results.registrations[1],
            attempt=results.attempts[1], reason="Gian lận", created_by=staff, created_at=now),
        "leaderboards.ContestLeaderboardSettings": ContestLeaderboardSettings.objects.create(contest=contest),
        "exports.ExportJob": ExportJob.objects.create(organisation=org, requested_by=staff, contest=contest,
                                                      round=round_),
        "exports.QuestionExport": QuestionExport.objects.get(pk=private_question.pk),
        "exports.ContestExport": ContestExport.objects.get(pk=contest.pk),
        "exports.ParticipantExport": ParticipantExport.objects.get(pk=registration.pk),
        "judging.EssayGradingSettings": essay_settings,
        "judging.RankingDecision": decision,
        "judging.EssayAssignment": assignment,
        "judging.EssayGuide": EssayGuide.objects.create(round=round_, question=essay, rubric="Thang điểm của B",
                                                        updated_by=staff, updated_at=now),
        "judging.Complaint": Complaint.objects.create(round=round_, registration=registration, received_at=now,
                                                      content="Khiếu nại của B", recorded_by=staff),
        "anticheat.RoundCheckSettings": RoundCheckSettings.objects.create(round=round_, overrides={}),
        "anticheat.Flag": Flag.objects.create(round=round_, attempt=results.attempts[0], kind="fast_answers",
                                              severity="high", severity_rank=3, score=0.9, evidence={"share": 0.9},
                                              created_at=now, updated_at=now),
        "anticheat.ReviewDecision": ReviewDecision.objects.create(
            attempt=results.attempts[0], round=round_, action="clear", from_status="unreviewed",
            to_status="cleared", reason="Đã xem", actor=staff, at=now),
        "judging.CertificateSettings": CertificateSettings.objects.create(
            contest=contest, issuing_body="Ban Tổ chức B", place="Cần Thơ", signer_title="Trưởng ban",
            signer_name="Người ký B"),
        "surveys.Survey": make_survey(org, anonymous=False, title="Khảo sát của tổ chức B"),
    }
    # A live game of the organisation with a player (issue 11).
    from live.services.players import player_join
    from live.services.sessions import session_create

    live_question = QuestionFactory(organisation=org, visibility=Visibility.PRIVATE, type="single",
                                    stem="<p>Câu hỏi trò chơi của B</p>")
    game = session_create(actor=staff, organisation=org, title="Trò chơi của B",
                          blueprint=[{"question_ids": [live_question.pk], "points": None}])
    objects["live.LiveSession"] = game
    objects["live.LivePlayer"] = player_join(session=game, nickname="Người chơi B")[0]
    # An API token of the organisation (issue 15).
    from api.services import api_token_create

    objects["api.ApiToken"] = api_token_create(organisation=org, name="Cổng liên thông của B",
                                               scopes=["results:read"], actor=staff)[0]
    assert all(obj is not None for obj in objects.values()), objects
    return World(org=org, staff=staff, results=results, private_question=private_question, objects=objects)


@pytest.fixture
def world_b(org_b) -> World:
    return build_world(org_b)


@pytest.fixture
def staff_a(org_a):
    """Staff of organisation A holding every role there (the strongest foreign user)."""
    return make_staff(org_a, *ALL_ROLES)
