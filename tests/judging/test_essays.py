"""Anonymous essay grading: two independent grades, a third beyond the threshold, the final mark feeds the
attempt score and unlocks the proposal of the ranking."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError
from django.urls import reverse

from accounts.models import AuditEvent
from contests.models import Answer, AttemptQuestion
from judging import errors
from judging.models import EssayAssignment, EssayGrade, EssayGradingSettings, EssayStatus
from judging.selectors import essay_grading_complete, essays_for_grader
from judging.services.approval import ranking_propose
from judging.services.essays import essay_assignments_create, essay_grade_submit, final_mark_of
from tests.contests.factories import QuestionFactory
from tests.factories import make_staff

pytestmark = pytest.mark.django_db

ESSAY_TEXT = "Theo Hiến pháp 2013, quyền con người được bảo đảm..."


@pytest.fixture
def essays(results, org_a):
    """Add a 5-point essay question to every attempt of the round."""
    question = QuestionFactory(organisation=org_a, type="essay", stem="<p>Trình bày quyền con người.</p>")
    for attempt in results.attempts:
        aq = AttemptQuestion.objects.create(attempt=attempt, position=4, question=question, points=Decimal(5),
                                            snapshot={"type": "essay", "stem": question.stem}, key={},
                                            shown_at=attempt.started_at)
        Answer.objects.create(attempt=attempt, attempt_question=aq, response={"text": ESSAY_TEXT}, client_seq=9,
                              received_at=attempt.started_at + dt.timedelta(seconds=60), is_correct=None,
                              points_awarded=Decimal(0))
    EssayGradingSettings.objects.create(round=results.round, threshold=Decimal("1.00"))
    essay_assignments_create(round=results.round)
    return list(EssayAssignment.objects.filter(round=results.round).order_by("attempt_id"))


@pytest.mark.parametrize(("marks", "expected"), [
    ([Decimal("3"), Decimal("4")], (Decimal("3.50"), "mean_of_two")),
    ([Decimal("2"), Decimal("4")], (None, "")),
    ([Decimal("2"), Decimal("4.5"), Decimal("4")], (Decimal("4.25"), "third_with_nearer")),
    ([Decimal("2"), Decimal("4"), Decimal("3")], (Decimal("3.00"), "mean_of_three")),
    ([Decimal("1")], (None, "")),
])
def test_final_mark_rule(marks, expected):
    assert final_mark_of(marks, threshold=Decimal("1")) == expected


def test_assignments_are_anonymous_and_idempotent(results, essays):
    assert len(essays) == len(results.attempts)
    codes = {a.code for a in essays}
    assert len(codes) == len(essays)
    assert all(code.startswith("TL-") and len(code) == 9 for code in codes)
    assert essay_assignments_create(round=results.round) == 0
    assert not essay_grading_complete(round=results.round)


def test_two_close_grades_give_the_mean_and_rescore_the_attempt(results, essays, judge_a, judge_a2):
    assignment = essays[0]
    attempt = results.attempts[0]
    assert attempt.score == Decimal(3)
    essay_grade_submit(assignment=assignment, grader=judge_a, mark="3,5")
    assert essays_for_grader(round=results.round, grader=judge_a).filter(pk=assignment.pk).count() == 0
    essay_grade_submit(assignment=assignment, grader=judge_a2, mark="4")
    assignment.refresh_from_db()
    assert assignment.status == EssayStatus.FINAL
    assert assignment.final_mark == Decimal("3.75")
    assert Answer.objects.get(pk=assignment.answer_id).points_awarded == Decimal("3.75")
    attempt.refresh_from_db()
    # Recomputed from the stored answers: 3 auto-graded points (2 choice + the short answer) + 3.75.
    assert attempt.score == Decimal("6.750")
    event = AuditEvent.objects.filter(action="judging.essay_graded").order_by("at", "id").last()
    assert event.data["final"] is True
    assert ESSAY_TEXT not in str(event.data)


def test_a_rescore_after_a_question_correction_keeps_the_judges_mark(results, essays, judge_a, judge_a2):
    """Every recompute of a score reads the essay marks (contests.scoring.register_essay_marks), so a rescore
    for a corrected choice question does not wipe what the judges gave."""
    from leaderboards.services.rescore import attempts_rescore_for_question

    assignment, attempt = essays[0], results.attempts[0]
    essay_grade_submit(assignment=assignment, grader=judge_a, mark="3,5")
    essay_grade_submit(assignment=assignment, grader=judge_a2, mark="4")
    attempt.refresh_from_db()
    assert attempt.score == Decimal("6.750")
    choice = AttemptQuestion.objects.filter(attempt=attempt).exclude(position=4).order_by("position").first()
    attempts_rescore_for_question(question=choice.question)
    attempt.refresh_from_db()
    assert attempt.score == Decimal("6.750")
    assert Answer.objects.get(pk=assignment.answer_id).points_awarded == Decimal("3.750")


def test_far_apart_grades_need_a_third(results, essays, judge_a, judge_a2, judge_a3):
    assignment = essays[1]
    essay_grade_submit(assignment=assignment, grader=judge_a, mark=1)
    essay_grade_submit(assignment=assignment, grader=judge_a2, mark=4)
    assignment.refresh_from_db()
    assert assignment.status == EssayStatus.NEEDS_THIRD
    assert assignment.final_mark is None
    # Only a judge who has not graded it yet may give the third grade.
    assert not essays_for_grader(round=results.round, grader=judge_a).filter(pk=assignment.pk).exists()
    assert essays_for_grader(round=results.round, grader=judge_a3).filter(pk=assignment.pk).exists()
    with pytest.raises(errors.AlreadyGraded):
        essay_grade_submit(assignment=assignment, grader=judge_a2, mark=3)
    essay_grade_submit(assignment=assignment, grader=judge_a3, mark="3.5")
    assignment.refresh_from_db()
    assert assignment.final_mark == Decimal("3.75")
    assert assignment.final_rule == "third_with_nearer"
    fourth = make_staff(results.round.contest.organisation, "judge")
    with pytest.raises(errors.GradingClosed):
        essay_grade_submit(assignment=assignment, grader=fourth, mark=2)


def test_third_grade_is_not_allowed_when_the_first_two_agree(results, essays, judge_a, judge_a2, judge_a3):
    essay_grade_submit(assignment=essays[2], grader=judge_a, mark=2)
    essay_grade_submit(assignment=essays[2], grader=judge_a2, mark=2)
    with pytest.raises(errors.GradingClosed):
        essay_grade_submit(assignment=essays[2], grader=judge_a3, mark=5)


def test_marks_and_graders_are_checked(results, essays, judge_a, organiser_a, org_b):
    for bad in ("-1", "5.5", "abc", "1.234", "NaN"):
        with pytest.raises(errors.InvalidMark):
            essay_grade_submit(assignment=essays[0], grader=judge_a, mark=bad)
    for user in (organiser_a, make_staff(org_b, "judge")):
        with pytest.raises(errors.NotAllowed):
            essay_grade_submit(assignment=essays[0], grader=user, mark=2)
    assert not EssayGrade.objects.exists()


def test_one_grade_per_judge_is_a_database_rule(essays, judge_a):
    EssayGrade.objects.create(assignment=essays[0], grader=judge_a, slot=1, mark=1, graded_at=essays[0].created_at)
    with pytest.raises(IntegrityError):
        EssayGrade.objects.create(assignment=essays[0], grader=judge_a, slot=2, mark=2,
                                  graded_at=essays[0].created_at)


def test_proposal_waits_for_grading(results, essays, judge_a, judge_a2):
    from leaderboards.services.ranking import ranking_compute

    ranking = ranking_compute(round=results.round)
    with pytest.raises(errors.GradingIncomplete):
        ranking_propose(actor=judge_a, ranking=ranking)
    for assignment in essays:
        essay_grade_submit(assignment=assignment, grader=judge_a, mark=2)
        essay_grade_submit(assignment=assignment, grader=judge_a2, mark=3)
    assert essay_grading_complete(round=results.round)
    ranking = ranking_compute(round=results.round)  # scores changed: a new version, then propose
    ranking_propose(actor=judge_a, ranking=ranking)


def test_grading_page_shows_no_name_and_no_other_grades(client, results, essays, judge_a, judge_a2, organiser_b):
    assignment = essays[-1]  # the contestant with the formula-like name
    essay_grade_submit(assignment=assignment, grader=judge_a, mark="4.25")
    client.force_login(judge_a2)
    url = reverse("judging:essay", kwargs={"assignment_id": assignment.pk})
    html = client.get(url).content.decode()
    assert assignment.code in html
    assert ESSAY_TEXT in html
    registration = results.registrations[-1]
    for secret in ("HYPERLINK", registration.user.phone, registration.national_id, "4.25", "4,25"):
        assert secret not in html
    response = client.post(url, {"mark": "9", "comment": ""})
    assert response.status_code == 400
    response = client.post(url, {"mark": "4", "comment": "Tốt"})
    assert response.status_code == 302
    assignment.refresh_from_db()
    assert assignment.status == EssayStatus.FINAL
    queue = client.get(reverse("judging:essays", kwargs={"round_id": results.round.pk}))
    assert queue.status_code == 200
    client.force_login(organiser_b)
    assert client.get(url).status_code == 404


@pytest.mark.django_db(transaction=True)
def test_concurrent_graders_get_distinct_slots(org_a):
    """Two judges submitting at the same moment: the assignment row lock orders them (slots 1 and 2)."""
    import threading

    from django.db import connection

    from tests.exports.factories import results_round

    data = results_round(org_a, people=1)
    question = QuestionFactory(organisation=org_a, type="essay")
    attempt = data.attempts[0]
    aq = AttemptQuestion.objects.create(attempt=attempt, position=4, question=question, points=Decimal(5),
                                        snapshot={"type": "essay", "stem": "?"}, key={}, shown_at=attempt.started_at)
    Answer.objects.create(attempt=attempt, attempt_question=aq, response={"text": "Bài làm"}, client_seq=9,
                          received_at=attempt.started_at, points_awarded=Decimal(0))
    essay_assignments_create(round=data.round)
    assignment = EssayAssignment.objects.get()
    judges = [make_staff(org_a, "judge"), make_staff(org_a, "judge")]
    barrier = threading.Barrier(2)
    failures = []

    def grade(judge, mark):
        try:
            barrier.wait(timeout=10)
            essay_grade_submit(assignment=assignment, grader=judge, mark=mark)
        except Exception as exc:  # pragma: no cover - reported below
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=grade, args=(j, m)) for j, m in zip(judges, ("3", "3.5"), strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert failures == []
    assert sorted(EssayGrade.objects.values_list("slot", flat=True)) == [1, 2]
    assignment.refresh_from_db()
    assert assignment.status == EssayStatus.FINAL
    assert assignment.final_mark == Decimal("3.25")
