"""Practice sessions: feedback with key, explanation and citation; answers final and idempotent; timed sessions
owned by the server's clock; "questions I got wrong"; progress and streak; mock exams drawn like a round's
blueprint by the contests' own draw; the organisers' most-missed figures, scoped to their organisation."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from contests import errors as contest_errors
from practice import errors, selectors, services
from practice.models import PracticeItem
from questionbank.models import Topic
from tests.contests.factories import ContestFactory, QuestionFactory, RoundFactory
from tests.factories import CitizenProfileFactory, OrganisationFactory, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def topic():
    return Topic.objects.create(name="Hôn nhân và gia đình")


@pytest.fixture
def owner():
    return OrganisationFactory(name="Sở Tư pháp (thử)")


@pytest.fixture
def questions(owner, topic):
    return [QuestionFactory(organisation=owner, topic=topic, citation_document="52/2014/QH13",
                            citation_article="8", citation_clause="1", explanation="<p>Nam từ đủ 20 tuổi.</p>")
            for _ in range(6)]


def right_and_wrong(item: PracticeItem) -> tuple[int, int]:
    correct = next(o.pk for o in item.question.options.all() if o.fraction > 0)
    wrong = next(i for i in item.option_order if i != correct)
    return correct, wrong


def test_feedback_shows_the_key_explanation_and_citation(questions, topic):
    user = CitizenProfileFactory().user
    session = services.practice_session_start(user=user, mode="topic", topic_id=topic.pk, count=5)
    assert session.question_count == 5
    item = PracticeItem.objects.select_related("question").get(session=session, position=1)
    assert sorted(item.option_order) == sorted(o.pk for o in item.question.options.all())
    correct, wrong = right_and_wrong(item)
    feedback = services.practice_answer(user=user, session_id=session.pk, position=1, response={"options": [wrong]})
    assert feedback.is_correct is False
    assert feedback.correct_option_ids == [correct]
    assert feedback.explanation == "<p>Nam từ đủ 20 tuổi.</p>"
    assert feedback.citation == "Khoản 1, Điều 8, 52/2014/QH13"
    # Final: the answer cannot be changed once the key was shown; a resend returns the stored feedback.
    again = services.practice_answer(user=user, session_id=session.pk, position=1, response={"options": [correct]})
    assert again.already_answered
    assert again.is_correct is False
    item.refresh_from_db()
    assert item.is_correct is False
    assert item.response == {"options": [wrong]}


def test_someone_elses_session_and_bad_input(questions, topic):
    user, other = CitizenProfileFactory().user, CitizenProfileFactory().user
    session = services.practice_session_start(user=user, mode="mixed", count=5)
    with pytest.raises(errors.SessionNotFound):
        services.practice_answer(user=other, session_id=session.pk, position=1, response={"options": []})
    with pytest.raises(contest_errors.InvalidResponse):
        services.practice_answer(user=user, session_id=session.pk, position=1, response={"options": [999_999]})
    assert not PracticeItem.objects.filter(session=session, answered_at__isnull=False).exists()
    with pytest.raises(errors.InvalidChoice):
        services.practice_session_start(user=user, mode="mixed", count=7)
    with pytest.raises(errors.InvalidChoice):
        services.practice_session_start(user=user, mode="topic", topic_id=None)


def test_timed_session_refuses_late_answers_and_ends_at_its_deadline(questions):
    user = CitizenProfileFactory().user
    start = timezone.now()
    session = services.practice_session_start(user=user, mode="mixed", count=5, minutes=5, now=start)
    assert session.deadline == start + dt.timedelta(minutes=5)
    item = PracticeItem.objects.select_related("question").get(session=session, position=1)
    late = start + dt.timedelta(minutes=5, seconds=6)
    with pytest.raises(errors.TimeUp):
        services.practice_answer(user=user, session_id=session.pk, position=1,
                                 response={"options": [item.option_order[0]]}, now=late)
    session.refresh_from_db()
    assert session.finished_at == session.deadline
    assert not PracticeItem.objects.filter(session=session, answered_at__isnull=False).exists()


def test_session_finishes_when_every_question_is_answered(questions, topic):
    user = CitizenProfileFactory().user
    session = services.practice_session_start(user=user, mode="topic", topic_id=topic.pk, count=5)
    for position in range(1, 6):
        item = PracticeItem.objects.select_related("question").get(session=session, position=position)
        services.practice_answer(user=user, session_id=session.pk, position=position,
                                 response={"options": [right_and_wrong(item)[0]]})
    session.refresh_from_db()
    assert session.is_finished
    other = services.practice_session_start(user=user, mode="mixed", count=5)
    services.practice_session_finish(user=user, session_id=other.pk)
    with pytest.raises(errors.SessionFinished):
        services.practice_answer(user=user, session_id=other.pk, position=1, response={"options": []})


def test_wrong_answers_come_back_until_answered_right(questions, topic):
    user = CitizenProfileFactory().user
    session = services.practice_session_start(user=user, mode="topic", topic_id=topic.pk, count=5)
    item = PracticeItem.objects.select_related("question").get(session=session, position=1)
    correct, wrong = right_and_wrong(item)
    services.practice_answer(user=user, session_id=session.pk, position=1, response={"options": [wrong]})
    retry = services.practice_session_start(user=user, mode="wrong", count=5)
    assert list(PracticeItem.objects.filter(session=retry).values_list("question_id", flat=True)) == [item.question_id]
    again = PracticeItem.objects.get(session=retry, position=1)
    services.practice_answer(user=user, session_id=retry.pk, position=1, response={"options": [correct]})
    assert selectors.wrong_families(user=user) == set()
    with pytest.raises(errors.NoQuestions):
        services.practice_session_start(user=user, mode="wrong", count=5)
    assert again.family_id == item.family_id


def test_progress_counts_rates_per_topic_and_the_daily_streak(questions, topic):
    user = CitizenProfileFactory().user
    now = timezone.now()
    for days_ago, right in ((2, True), (1, False), (0, True)):
        when = now - dt.timedelta(days=days_ago)
        session = services.practice_session_start(user=user, mode="document", document="52/2014/QH13", count=5,
                                                  now=when)
        item = PracticeItem.objects.select_related("question").get(session=session, position=1)
        correct, wrong = right_and_wrong(item)
        services.practice_answer(user=user, session_id=session.pk, position=1,
                                 response={"options": [correct if right else wrong]}, now=when)
    progress = selectors.progress_for(user=user, now=now)
    assert (progress.answered, progress.correct, progress.streak_days) == (3, 2, 3)
    assert progress.practised_today
    assert [(t.name, t.answered, t.correct) for t in progress.topics] == [(topic.name, 3, 2)]
    # Two days later without practice the streak is gone.
    assert selectors.progress_for(user=user, now=now + dt.timedelta(days=2)).streak_days == 0


def test_mock_exam_draws_like_a_closed_rounds_blueprint(owner, questions, topic):
    other_topic = Topic.objects.create(name="Đất đai")
    land = [QuestionFactory(organisation=owner, topic=other_topic, difficulty="hard") for _ in range(3)]
    now = timezone.now()
    contest = ContestFactory(organisation=owner, time_limit_seconds=600, blueprint=[
        {"topic_id": topic.pk, "difficulty": None, "count": 3, "points": None},
        {"question_ids": [land[0].pk], "points": None}])
    past = RoundFactory(contest=contest, opens_at=now - dt.timedelta(days=10), closes_at=now - dt.timedelta(days=3))
    assert selectors.mock_rounds(now=now) == [past]
    user = CitizenProfileFactory().user
    session = services.practice_mock_start(user=user, round=past)
    assert session.mode == "mock"
    assert not session.immediate_feedback
    assert session.deadline == session.started_at + dt.timedelta(seconds=600)
    drawn = list(PracticeItem.objects.filter(session=session).select_related("question"))
    assert sorted(i.question.topic_id for i in drawn) == sorted([topic.pk] * 3 + [other_topic.pk])
    assert next(i for i in drawn if i.question.topic_id == other_topic.pk).question.difficulty == "hard"
    # Deferred feedback: saved, the key only on the summary.
    item = drawn[0]
    feedback = services.practice_answer(user=user, session_id=session.pk, position=item.position,
                                        response={"options": [item.option_order[0]]})
    assert "explanation" not in feedback.as_dict()
    # An open round cannot be mocked (its own cells are reserved), nor one the pool cannot fill.
    open_round = RoundFactory(contest=ContestFactory(organisation=owner, blueprint=[
        {"topic_id": other_topic.pk, "difficulty": None, "count": 1, "points": None}]))
    with pytest.raises(errors.MockUnavailable):
        services.practice_mock_start(user=user, round=open_round)
    # That open round reserves "Đất đai", so the past round's land cell cannot be filled any more either.
    assert selectors.mock_rounds(now=timezone.now()) == []
    open_round.delete()
    assert selectors.mock_rounds(now=timezone.now()) == [past]
    hungry = RoundFactory(contest=ContestFactory(organisation=owner, blueprint=[
        {"topic_id": topic.pk, "difficulty": None, "count": 50, "points": None}]),
        opens_at=now - dt.timedelta(days=9), closes_at=now - dt.timedelta(days=1))
    with pytest.raises(errors.MockUnavailable) as caught:
        services.practice_mock_start(user=user, round=hungry)
    assert "50" in caught.value.message


def test_insights_count_only_the_organisers_questions_or_units(owner, questions, topic):
    unit_a, unit_b = OrganisationFactory(name="Phường A"), OrganisationFactory(name="Phường B")
    for unit, right in ((unit_a, False), (unit_a, False), (unit_b, True)):
        user = CitizenProfileFactory(unit=unit).user
        session = services.practice_session_start(user=user, mode="topic", topic_id=topic.pk, count=5)
        item = PracticeItem.objects.select_related("question").get(session=session, position=1)
        correct, wrong = right_and_wrong(item)
        services.practice_answer(user=user, session_id=session.pk, position=1,
                                 response={"options": [correct if right else wrong]})
    organiser = make_staff(owner, "organiser")
    figures = selectors.insights(user=organiser)
    assert [(r.label, r.answered, r.wrong) for r in figures["topics"]] == [(topic.name, 3, 2)]
    assert [(r.label, r.answered, r.wrong) for r in figures["units"]] == [("Phường A", 2, 2), ("Phường B", 1, 0)]
    assert sum(r.wrong for r in figures["questions"]) == 2
    only_b = selectors.insights(user=organiser, unit_id=unit_b.pk)
    assert [(r.answered, r.wrong) for r in only_b["topics"]] == [(1, 0)]
    # A ward organiser sees their own citizens' answers, on anyone's questions …
    ward = make_staff(unit_a, "organiser")
    assert [(r.label, r.answered) for r in selectors.insights(user=ward)["units"]] == [("Phường A", 2)]
    # … and an unrelated organisation sees nothing; a judge is not an insight role.
    stranger = make_staff(OrganisationFactory(), "organiser", "judge", "writer", "reviewer")
    assert selectors.insights(user=stranger) == {"topics": [], "questions": [], "units": []}
    assert selectors.insight_scope(user=make_staff(owner, "judge")).count() == 0


def test_personal_data_hooks(owner, topic):
    from accounts.services import account_anonymise, personal_data_export

    QuestionFactory(organisation=owner, topic=topic, type="short")
    QuestionFactory(organisation=owner, topic=topic)
    user = CitizenProfileFactory().user
    session = services.practice_session_start(user=user, mode="mixed", count=5)
    for item in PracticeItem.objects.select_related("question").filter(session=session):
        response = {"text": "Tên tôi là Nguyễn Văn A"} if item.question.type == "short" else {
            "options": [item.option_order[0]]}
        services.practice_answer(user=user, session_id=session.pk, position=item.position, response=response)
    exported = personal_data_export(user=user)
    answers = exported["practice_sessions"][0]["answers"]
    assert len(answers) == 2
    assert any(a["response"] == {"text": "Tên tôi là Nguyễn Văn A"} for a in answers)
    account_anonymise(user=user, actor=user)
    # The answers keep counting in the aggregates, but the typed text is gone.
    assert PracticeItem.objects.filter(user=user, answered_at__isnull=False).count() == 2
    assert list(PracticeItem.objects.filter(user=user, question__type="short").values_list("response", flat=True)) == [
        None]
    assert PracticeItem.objects.filter(user=user, question__type="single").exclude(response=None).count() == 1


def test_a_corrected_key_reaches_practice_feedback_at_once(owner, questions, topic,
                                                          django_capture_on_commit_callbacks):
    from questionbank.services.review import question_correct

    user = CitizenProfileFactory().user
    session = services.practice_session_start(user=user, mode="topic", topic_id=topic.pk, count=5)
    second = PracticeItem.objects.select_related("question").get(session=session, position=2)
    old_right, other = right_and_wrong(second)
    services.question_view(type(second.question).objects.get(pk=second.question_id), [])  # cached now
    assert second.question_id in services._options_cache
    with django_capture_on_commit_callbacks(execute=True):  # question_corrected is sent after the commit
        question_correct(question=second.question, actor=make_staff(owner, "reviewer"), reason="Đáp án nhầm",
                         fractions={old_right: "0", other: "1"})
    feedback = services.practice_answer(user=user, session_id=session.pk, position=2, response={"options": [other]})
    assert feedback.is_correct is True
    assert feedback.correct_option_ids == [other]
