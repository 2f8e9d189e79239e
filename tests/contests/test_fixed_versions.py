"""Issue 25, point 1: a round names a fixed *question*, not one version of it. Editing the question never stops
the round; the round keeps the version in force at its first draw until an organiser accepts the newer one;
the writer is warned which rounds use the question; a contestant never reads a staff error."""

from __future__ import annotations

import pytest
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from accounts.models import AuditEvent, Role
from contests import errors
from contests.blueprints import blueprint_problems
from contests.models import AttemptQuestion, RoundFixedVersion
from contests.services.attempts.start import attempt_start
from contests.services.fixed_questions import round_fixed_versions_accept, round_fixed_versions_state
from questionbank.importers.base import ParsedOption
from questionbank.models import Question, QuestionStatus
from questionbank.services.questions import question_update
from questionbank.services.review import question_approve
from tests.contests.factories import ContestFactory, RoundFactory, bank, register
from tests.factories import CitizenProfileFactory, make_staff

pytestmark = pytest.mark.django_db

ANY = {"topic_id": None, "difficulty": None, "points": None}


@pytest.fixture
def writer_a(org_a):
    return make_staff(org_a, Role.WRITER)


@pytest.fixture
def reviewer_a(org_a):
    return make_staff(org_a, Role.REVIEWER)


@pytest.fixture
def fixed_round(org_a, now):
    (fixed,) = bank(org_a, 1)
    bank(org_a, 4)
    contest = ContestFactory(organisation=org_a, blueprint=[{"question_ids": [fixed.pk], "points": None},
                                                            {**ANY, "count": 2}])
    round = RoundFactory(contest=contest, opens_at=now.replace(year=now.year - 1),
                         closes_at=now.replace(year=now.year + 1))
    return round, fixed


def _new_citizen(contest, org):
    user = CitizenProfileFactory(unit=org).user
    register(user, contest)
    return user


def _fixed_shown(attempt, family_id):
    """The version of the fixed question that the attempt drew."""
    rows = AttemptQuestion.objects.filter(attempt=attempt).values_list("question_id", "question__family_id")
    return next(qid for qid, family in rows if (family or qid) == family_id)


def _edit(question, writer, stem="<p>Nội dung đã sửa theo luật mới?</p>"):
    return question_update(question=question, actor=writer, stem=stem,
                           options=[ParsedOption(text="Đúng", fraction=1), ParsedOption(text="Sai", fraction=0)])


def test_editing_a_fixed_question_never_stops_the_round_and_the_version_stays(org_a, fixed_round, writer_a,
                                                                               reviewer_a, organiser_a, now):
    round, v1 = fixed_round
    first = attempt_start(user=_new_citizen(round.contest, org_a), round=round, now=now)
    assert _fixed_shown(first, v1.pk) == v1.pk

    v2 = _edit(Question.objects.get(pk=v1.pk), writer_a)
    assert v2.pk != v1.pk
    assert v2.status == QuestionStatus.IN_REVIEW
    # Before issue 25 this raised "Câu hỏi cố định không dùng được … #v1" for every new contestant.
    second = attempt_start(user=_new_citizen(round.contest, org_a), round=round, now=now)
    assert _fixed_shown(second, v1.pk) == v1.pk
    assert blueprint_problems(organisation=org_a, blueprint=round.settings.blueprint) == []

    question_approve(question=v2, actor=reviewer_a)
    third = attempt_start(user=_new_citizen(round.contest, org_a), round=round, now=now)
    assert _fixed_shown(third, v1.pk) == v1.pk  # fairness: the round keeps its version
    (state,) = round_fixed_versions_state(round=round)
    assert (state.pinned_id, state.in_force_id, state.newer_available) == (v1.pk, v2.pk, True)

    assert round_fixed_versions_accept(round=round, actor=organiser_a, reason="Luật mới có hiệu lực") == 1
    fourth = attempt_start(user=_new_citizen(round.contest, org_a), round=round, now=now)
    assert _fixed_shown(fourth, v1.pk) == v2.pk
    assert _fixed_shown(first, v1.pk) == v1.pk  # drawn attempts are unchanged
    event = AuditEvent.objects.get(action="contests.fixed_versions_accepted")
    assert event.reason == "Luật mới có hiệu lực"
    assert event.data["changes"] == [{"family_id": v1.pk, "from": v1.pk, "to": v2.pk}]


def test_a_round_not_drawn_yet_takes_the_newest_approved_version(org_a, fixed_round, writer_a, reviewer_a, now):
    round, v1 = fixed_round
    v2 = _edit(Question.objects.get(pk=v1.pk), writer_a)  # unused: edited in place, back to review
    assert v2.pk == v1.pk
    Question.objects.filter(pk=v1.pk).update(status=QuestionStatus.APPROVED)
    attempt = attempt_start(user=_new_citizen(round.contest, org_a), round=round, now=now)
    v3 = _edit(Question.objects.get(pk=v1.pk), writer_a, "<p>Lần sửa thứ hai?</p>")  # used: a new version
    question_approve(question=v3, actor=reviewer_a)
    other = RoundFactory(contest=round.contest, opens_at=round.opens_at, closes_at=round.closes_at)
    later = attempt_start(user=_new_citizen(round.contest, org_a), round=other, now=now)
    assert _fixed_shown(attempt, v1.pk) == v1.pk
    assert _fixed_shown(later, v1.pk) == v3.pk  # the other round had not drawn: the version in force
    assert set(RoundFixedVersion.objects.values_list("round_id", "question_id")) == {(round.pk, v1.pk),
                                                                                     (other.pk, v3.pk)}


def test_only_an_organiser_of_the_round_accepts_with_a_reason(org_a, fixed_round, organiser_b, writer_a, now):
    round, _v1 = fixed_round
    with pytest.raises(PermissionDenied):
        round_fixed_versions_accept(round=round, actor=organiser_b, reason="x")
    with pytest.raises(PermissionDenied):
        round_fixed_versions_accept(round=round, actor=writer_a, reason="x")
    organiser = make_staff(org_a, Role.ORGANISER)
    with pytest.raises(errors.ReasonRequired):
        round_fixed_versions_accept(round=round, actor=organiser, reason="  ")


def test_a_contestant_never_reads_the_staff_message(client, org_a, fixed_round, now):
    round, fixed = fixed_round
    Question.objects.filter(pk=fixed.pk).update(status=QuestionStatus.RETIRED)
    user = _new_citizen(round.contest, org_a)
    client.force_login(user)
    response = client.post(reverse("contests:start", args=[round.pk]), follow=True)
    page = response.content.decode()
    assert "Đề thi của đợt này đang được Ban tổ chức điều chỉnh" in page
    assert f"#{fixed.pk}" not in page
    assert "cố định" not in page
    assert not round.attempts.exists()


def test_the_writer_is_warned_which_rounds_use_the_question(client, org_a, org_b, fixed_round, writer_a, now):
    round, fixed = fixed_round
    foreign = ContestFactory(organisation=org_b, title="Cuộc thi của xã khác",
                             blueprint=[{"question_ids": [fixed.pk], "points": None}])
    RoundFactory(contest=foreign, name="Tuần bí mật", opens_at=round.opens_at, closes_at=round.closes_at)
    client.force_login(writer_a)
    response = client.get(reverse("admin:questionbank_question_change", args=[fixed.pk]))
    page = response.content.decode()
    assert "là câu hỏi cố định của 2 đợt thi chưa kết thúc" in page
    assert str(round) in page
    assert "1 đợt thi của đơn vị khác" in page
    assert "Tuần bí mật" not in page
    assert "Cuộc thi của xã khác" not in page


def test_the_round_admin_shows_the_versions_and_accepts_the_new_one(client, org_a, fixed_round, writer_a,
                                                                     reviewer_a, organiser_a, now):
    round, v1 = fixed_round
    attempt_start(user=_new_citizen(round.contest, org_a), round=round, now=now)
    v2 = _edit(Question.objects.get(pk=v1.pk), writer_a)
    question_approve(question=v2, actor=reviewer_a)
    client.force_login(organiser_a)
    page = client.get(reverse("admin:contests_round_change", args=[round.pk])).content.decode()
    assert f"#{v1.pk}: đang dùng phiên bản 1 (#{v1.pk}); đã có phiên bản 2 (#{v2.pk}) được duyệt" in page
    url = reverse("admin:contests_round_changelist")
    asked = client.post(url, {"action": "accept_fixed_versions", helpers.ACTION_CHECKBOX_NAME: [round.pk]})
    assert "Lý do" in asked.content.decode()
    client.post(url, {"action": "accept_fixed_versions", helpers.ACTION_CHECKBOX_NAME: [round.pk], "apply": "1",
                      "reason": "Văn bản mới"})
    assert RoundFixedVersion.objects.get(round=round).question_id == v2.pk


def test_another_organisations_organiser_cannot_accept_through_the_admin(client, org_a, fixed_round, organiser_b,
                                                                         writer_a, reviewer_a, now):
    round, v1 = fixed_round
    attempt_start(user=_new_citizen(round.contest, org_a), round=round, now=now)
    question_approve(question=_edit(Question.objects.get(pk=v1.pk), writer_a), actor=reviewer_a)
    client.force_login(organiser_b)
    assert client.get(reverse("admin:contests_round_change", args=[round.pk])).status_code == 404
    client.post(reverse("admin:contests_round_changelist"), {
        "action": "accept_fixed_versions", helpers.ACTION_CHECKBOX_NAME: [round.pk], "apply": "1", "reason": "x"})
    assert RoundFixedVersion.objects.get(round=round).question_id == v1.pk


def test_after_editing_a_used_question_the_writer_lands_on_the_new_version(client, org_a, fixed_round, writer_a,
                                                                            now):
    from tests.questionbank.test_admin import _form_data

    round, v1 = fixed_round
    attempt_start(user=_new_citizen(round.contest, org_a), round=round, now=now)
    client.force_login(writer_a)
    data = _form_data(org_a, stem="<p>Câu hỏi sau khi sửa?</p>")
    response = client.post(reverse("admin:questionbank_question_change", args=[v1.pk]), data)
    new = Question.objects.get(family_id=v1.pk, is_current=True)
    assert new.pk != v1.pk
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:questionbank_question_change", args=[new.pk])
