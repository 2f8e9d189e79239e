"""The leak rule: a question an open or future contest round could draw is never offered in practice, its key
never shown — whatever the round's blueprint says (random cells, sub-topics, difficulty, fixed questions), for
rounds of any organisation and any contest state, and also when the round is created after the draw."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from contests.models import AttemptQuestion
from contests.services.attempts.finish import attempt_submit
from contests.services.attempts.start import attempt_start
from practice import errors, selectors, services
from practice.models import PracticeItem
from questionbank.models import Topic, Visibility
from tests.contests.factories import ContestFactory, QuestionFactory, RoundFactory, register
from tests.factories import CitizenProfileFactory, OrganisationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def bank():
    owner = OrganisationFactory(name="Sở Tư pháp (thử)")
    traffic = Topic.objects.create(name="Giao thông")
    fines = Topic.objects.create(name="Xử phạt", parent=traffic)
    family = Topic.objects.create(name="Hôn nhân và gia đình")
    questions = {
        "traffic": [QuestionFactory(organisation=owner, topic=traffic) for _ in range(3)],
        "fines_hard": [QuestionFactory(organisation=owner, topic=fines, difficulty="hard") for _ in range(2)],
        "fines_easy": [QuestionFactory(organisation=owner, topic=fines, difficulty="easy") for _ in range(2)],
        "family": [QuestionFactory(organisation=owner, topic=family) for _ in range(4)],
    }
    return {"owner": owner, "traffic": traffic, "fines": fines, "family": family, "q": questions}


def pool_ids(now=None) -> set[int]:
    return set(selectors.practice_pool(now=now or timezone.now()).values_list("id", flat=True))


def ids(questions) -> set[int]:
    return {q.pk for q in questions}


def every(bank) -> set[int]:
    return set().union(*(ids(v) for v in bank["q"].values()))


def round_with(blueprint, *, org=None, opens=-1, closes=6, **contest_kwargs):
    now = timezone.now()
    contest = ContestFactory(organisation=org or OrganisationFactory(), blueprint=blueprint, **contest_kwargs)
    return RoundFactory(contest=contest, opens_at=now + dt.timedelta(days=opens),
                        closes_at=now + dt.timedelta(days=closes))


def test_without_rounds_every_published_question_may_be_practised(bank):
    assert pool_ids() == every(bank)


def test_a_topic_cell_reserves_the_topic_and_its_subtopics(bank):
    round_with([{"topic_id": bank["traffic"].pk, "difficulty": None, "count": 2, "points": None}])
    assert pool_ids() == ids(bank["q"]["family"])


def test_a_difficulty_cell_reserves_only_that_difficulty(bank):
    round_with([{"topic_id": bank["fines"].pk, "difficulty": "hard", "count": 1, "points": None}])
    assert pool_ids() == every(bank) - ids(bank["q"]["fines_hard"])


def test_an_all_topics_cell_reserves_everything(bank):
    round_with([{"topic_id": None, "difficulty": None, "count": 5, "points": None}])
    assert pool_ids() == set()


def test_fixed_questions_and_other_versions_of_their_family_are_reserved(bank):
    fixed = bank["q"]["family"][0]
    old = QuestionFactory(organisation=bank["owner"], topic=bank["family"], is_current=False, family_id=fixed.pk,
                          version=1)
    # The current question is version 2 of the same family; the round fixes the old version.
    type(fixed).objects.filter(pk=fixed.pk).update(family_id=fixed.pk, version=2)
    round_with([{"question_ids": [old.pk], "points": None}])
    assert fixed.pk not in pool_ids()
    assert pool_ids() == every(bank) - {fixed.pk}


def test_future_rounds_and_draft_contests_reserve_too(bank):
    round_with([{"topic_id": bank["family"].pk, "difficulty": None, "count": 1, "points": None}], opens=3, closes=9,
               visibility="draft")
    assert pool_ids() & ids(bank["q"]["family"]) == set()


def test_closed_rounds_release_their_questions(bank):
    now = timezone.now()
    closed = round_with([{"topic_id": bank["family"].pk, "difficulty": None, "count": 1, "points": None}],
                        opens=-9, closes=-2)
    assert ids(bank["q"]["family"]) <= pool_ids()
    # Extended again: reserved again.
    closed.extended_until = now + dt.timedelta(days=1)
    closed.save()
    assert pool_ids() & ids(bank["q"]["family"]) == set()


def test_questions_in_progress_stay_reserved_when_the_blueprint_changes(bank):
    round_ = round_with([{"topic_id": bank["family"].pk, "difficulty": None, "count": 2, "points": None}],
                        max_attempts=1)
    citizen = CitizenProfileFactory().user
    register(citizen, round_.contest)
    attempt = attempt_start(user=citizen, round=round_)
    drawn = set(AttemptQuestion.objects.filter(attempt=attempt).values_list("question_id", flat=True))
    assert len(drawn) == 2
    contest = round_.contest
    contest.blueprint = [{"topic_id": bank["traffic"].pk, "difficulty": None, "count": 1, "points": None}]
    contest.save()
    pool = pool_ids()
    assert drawn & pool == set()
    assert (ids(bank["q"]["family"]) - drawn) <= pool
    # Once that attempt is submitted, new attempts draw from the new cells only: the old questions are free.
    attempt_submit(attempt=attempt)
    selectors.reservation_forget()  # a submit does not drop the cached rule: it stays stricter for up to a minute
    assert ids(bank["q"]["family"]) <= pool_ids()


def test_private_and_unreviewed_and_essay_questions_are_never_practised(bank):
    private = QuestionFactory(organisation=bank["owner"], visibility=Visibility.PRIVATE, topic=bank["family"])
    draft = QuestionFactory(organisation=bank["owner"], status="draft", topic=bank["family"])
    essay = QuestionFactory(organisation=bank["owner"], type="essay", topic=bank["family"])
    assert pool_ids() & {private.pk, draft.pk, essay.pk} == set()


def test_a_session_never_draws_a_reserved_question(bank):
    round_with([{"topic_id": bank["traffic"].pk, "difficulty": None, "count": 1, "points": None}])
    user = CitizenProfileFactory().user
    for _ in range(5):
        session = services.practice_session_start(user=user, mode="mixed", count=20)
        drawn = set(PracticeItem.objects.filter(session=session).values_list("question_id", flat=True))
        assert drawn
        assert drawn <= ids(bank["q"]["family"])
    with pytest.raises(errors.NoQuestions):
        services.practice_session_start(user=user, mode="topic", topic_id=bank["fines"].pk, count=5)


def test_a_round_created_after_the_draw_withholds_the_key_at_once(bank):
    user = CitizenProfileFactory().user
    session = services.practice_session_start(user=user, mode="topic", topic_id=bank["family"].pk, count=5)
    first = PracticeItem.objects.get(session=session, position=1)
    feedback = services.practice_answer(user=user, session_id=session.pk, position=1,
                                        response={"options": [first.option_order[0]]})
    assert feedback.show_key
    assert feedback.explanation
    # The organiser creates a round drawing this topic: the cached rule is dropped on save.
    round_with([{"topic_id": bank["family"].pk, "difficulty": None, "count": 1, "points": None}], opens=2, closes=8)
    second = PracticeItem.objects.get(session=session, position=2)
    with pytest.raises(errors.QuestionWithdrawn):
        services.practice_answer(user=user, session_id=session.pk, position=2,
                                 response={"options": [second.option_order[0]]})
    assert services.next_item(session=session, now=timezone.now()) is None
    review = services.session_review(session=session, now=timezone.now())
    assert all(r["withheld"] for r in review)
    assert all(r["feedback"].as_dict().get("explanation") is None for r in review if r["withheld"])
