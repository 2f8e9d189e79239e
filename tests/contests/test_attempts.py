from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from contests import errors
from contests.models import Answer, AttemptQuestion, AttemptStatus, SubmitKind
from contests.services.attempts.answers import attempt_answer
from contests.services.attempts.finish import attempt_submit
from contests.services.attempts.start import attempt_start
from contests.services.attempts.state import attempt_state

pytestmark = pytest.mark.django_db


def correct_option(aq: AttemptQuestion) -> int:
    return next(int(k) for k, v in aq.key["options"].items() if Decimal(v) == 1)


def wrong_option(aq: AttemptQuestion) -> int:
    return next(int(k) for k, v in aq.key["options"].items() if Decimal(v) == 0)


def test_start_draws_blueprint_and_snapshots(citizen, registration, round_, now):
    attempt = attempt_start(user=citizen, round=round_, now=now)
    qs = list(attempt.questions.order_by("position"))
    assert [q.position for q in qs] == [1, 2, 3, 4, 5]
    assert len({q.question_id for q in qs}) == 5
    assert attempt.deadline == now + dt.timedelta(seconds=900)
    assert attempt.number == 1
    assert attempt.status == AttemptStatus.IN_PROGRESS
    for q in qs:
        assert "options" in q.snapshot
        assert "fraction" not in str(q.snapshot)
        assert q.key["options"]
    registration.refresh_from_db()
    assert registration.frozen_at == now


def test_full_attempt_scores_from_answers(citizen, registration, round_, now):
    attempt = attempt_start(user=citizen, round=round_, now=now)
    qs = list(attempt.questions.order_by("position"))
    for i, q in enumerate(qs, start=1):
        option = correct_option(q) if i <= 3 else wrong_option(q)
        result = attempt_answer(attempt_id=attempt.pk, user_id=citizen.pk, position=q.position,
                                response={"options": [option]}, client_seq=i, now=now + dt.timedelta(seconds=i))
        assert result.status == "stored", result.error
    done = attempt_submit(attempt=attempt, now=now + dt.timedelta(seconds=60))
    assert done.status == AttemptStatus.SUBMITTED
    assert done.submit_kind == SubmitKind.CLIENT
    assert done.score == Decimal("3")
    assert done.correct_count == 3
    assert done.duration_ms == 60_000
    assert Answer.objects.filter(attempt=attempt, is_correct=True).count() == 3
    state = attempt_state(attempt=done, now=now + dt.timedelta(seconds=61))
    assert state["status"] == "submitted"
    with pytest.raises(errors.ContestError):
        raise errors.AttemptClosed()


def start(citizen, round_, now):
    attempt = attempt_start(user=citizen, round=round_, now=now)
    return attempt, list(attempt.questions.order_by("position"))


def answer(attempt, user, q, option, seq, at):
    return attempt_answer(attempt_id=attempt.pk, user_id=user.pk, position=q.position,
                          response={"options": [option]}, client_seq=seq, now=at)


def test_start_twice_resumes_the_attempt_in_progress(citizen, registration, round_, now):
    first = attempt_start(user=citizen, round=round_, now=now)
    again = attempt_start(user=citizen, round=round_, now=now + dt.timedelta(minutes=3))
    assert again.pk == first.pk
    assert again.deadline == first.deadline
    assert AttemptQuestion.objects.filter(attempt__round=round_).count() == 5


def test_start_requires_registration_and_open_round(citizen, contest, round_, now):
    with pytest.raises(errors.NotRegistered):
        attempt_start(user=citizen, round=round_, now=now)
    from tests.contests.factories import register

    register(citizen, contest)
    with pytest.raises(errors.RoundNotOpen):
        attempt_start(user=citizen, round=round_, now=round_.opens_at - dt.timedelta(seconds=1))
    with pytest.raises(errors.RoundNotOpen):
        attempt_start(user=citizen, round=round_, now=round_.closes_at)


def test_deadline_is_capped_by_round_close(citizen, registration, round_):
    late = round_.closes_at - dt.timedelta(minutes=5)
    attempt = attempt_start(user=citizen, round=round_, now=late)
    assert attempt.deadline == round_.closes_at


def test_attempt_limit_and_extra_attempt_override(citizen, registration, round_, now, organiser_a):
    from contests.services.overrides import override_extra_attempt

    for i in range(2):  # max_attempts = 2 in the factory
        attempt = attempt_start(user=citizen, round=round_, now=now + dt.timedelta(minutes=i))
        assert attempt.number == i + 1
        attempt_submit(attempt=attempt, now=now + dt.timedelta(minutes=i, seconds=30))
    with pytest.raises(errors.NoAttemptsLeft):
        attempt_start(user=citizen, round=round_, now=now + dt.timedelta(minutes=5))
    override_extra_attempt(actor=organiser_a, registration=registration, round=round_, reason="Mất điện", now=now)
    third = attempt_start(user=citizen, round=round_, now=now + dt.timedelta(minutes=6))
    assert third.number == 3


def test_unlimited_attempts_when_round_sets_zero(citizen, registration, round_, now):
    round_.max_attempts = 0
    round_.save()
    for i in range(4):
        attempt = attempt_start(user=citizen, round=round_, now=now + dt.timedelta(minutes=i))
        attempt_submit(attempt=attempt, now=now + dt.timedelta(minutes=i, seconds=10))
    assert attempt.number == 4


def test_unsatisfiable_blueprint_rolls_back(citizen, registration, round_, now):
    round_.blueprint = [{"topic_id": None, "difficulty": None, "count": 50, "points": None}]
    round_.save()
    with pytest.raises(errors.BlueprintUnsatisfiable):
        attempt_start(user=citizen, round=round_, now=now)
    assert not round_.attempts.exists()


def test_blueprint_draws_by_difficulty_with_points(citizen, registration, round_, now, org_a):
    from tests.contests.factories import bank

    hard = {q.pk for q in bank(org_a, 3, difficulty="hard")}
    round_.blueprint = [{"topic_id": None, "difficulty": "hard", "count": 3, "points": "2.5"},
                        {"topic_id": None, "difficulty": "medium", "count": 2, "points": None}]
    round_.save()
    _attempt, qs = start(citizen, round_, now)
    assert {q.question_id for q in qs[:3]} == hard
    assert [q.points for q in qs] == [Decimal("2.5")] * 3 + [Decimal("1")] * 2


def test_private_questions_of_other_organisations_are_never_drawn(citizen, registration, round_, now, org_b):
    from questionbank.models import Visibility
    from tests.contests.factories import bank

    foreign = {q.pk for q in bank(org_b, 30, visibility=Visibility.PRIVATE)}
    for i in range(3):
        round_.max_attempts = 0
        round_.save()
        attempt, qs = start(citizen, round_, now + dt.timedelta(minutes=i))
        assert not foreign & {q.question_id for q in qs}
        attempt_submit(attempt=attempt, now=now + dt.timedelta(minutes=i, seconds=1))


# --- answers ------------------------------------------------------------------------------------


def test_resend_same_seq_is_acked_without_change(citizen, registration, round_, now):
    attempt, qs = start(citizen, round_, now)
    first = answer(attempt, citizen, qs[0], correct_option(qs[0]), 1, now)
    again = answer(attempt, citizen, qs[0], wrong_option(qs[0]), 1, now + dt.timedelta(seconds=1))
    assert first.status == "stored"
    assert again.status == "duplicate"
    assert again.ok
    stored = Answer.objects.get(attempt=attempt)
    assert stored.response == {"options": [correct_option(qs[0])]}
    assert stored.revision == 1


def test_older_seq_never_overwrites_newer(citizen, registration, round_, now):
    attempt, qs = start(citizen, round_, now)
    assert answer(attempt, citizen, qs[0], wrong_option(qs[0]), 5, now).status == "stored"
    assert answer(attempt, citizen, qs[0], correct_option(qs[0]), 3, now).status == "stale"
    assert answer(attempt, citizen, qs[0], correct_option(qs[0]), 7, now).status == "stored"
    stored = Answer.objects.get(attempt=attempt)
    assert stored.client_seq == 7
    assert stored.revision == 2
    assert stored.response == {"options": [correct_option(qs[0])]}


def test_answer_change_can_be_forbidden(citizen, registration, round_, now):
    round_.allow_answer_change = False
    round_.save()
    attempt, qs = start(citizen, round_, now)
    assert answer(attempt, citizen, qs[0], wrong_option(qs[0]), 1, now).status == "stored"
    changed = answer(attempt, citizen, qs[0], correct_option(qs[0]), 2, now)
    assert isinstance(changed.error, errors.AnswerLocked)
    assert answer(attempt, citizen, qs[0], wrong_option(qs[0]), 1, now).status == "duplicate"


def test_late_answer_is_rejected_after_grace(citizen, registration, round_, now):
    attempt, qs = start(citizen, round_, now)
    within_grace = attempt.deadline + dt.timedelta(seconds=5)
    assert answer(attempt, citizen, qs[0], correct_option(qs[0]), 1, within_grace).status == "stored"
    late = answer(attempt, citizen, qs[1], correct_option(qs[1]), 2, within_grace + dt.timedelta(milliseconds=1))
    assert isinstance(late.error, errors.DeadlinePassed)
    assert late.error.code == "deadline_passed"
    assert Answer.objects.filter(attempt=attempt).count() == 1


def test_foreign_question_and_option_are_rejected(citizen, registration, round_, now):
    attempt, qs = start(citizen, round_, now)
    result = attempt_answer(attempt_id=attempt.pk, user_id=citizen.pk, position=6, response={"options": [1]},
                            client_seq=1, now=now)
    assert result.error.code == "question_not_in_attempt"
    other_option = correct_option(qs[1])
    result = answer(attempt, citizen, qs[0], other_option, 2, now)
    assert result.error.code == "invalid_response"
    assert not Answer.objects.filter(attempt=attempt).exists()


def test_someone_elses_attempt_is_not_found(citizen, registration, round_, now, org_a):
    from tests.factories import CitizenProfileFactory

    attempt, qs = start(citizen, round_, now)
    intruder = CitizenProfileFactory(unit=org_a).user
    result = answer(attempt, intruder, qs[0], correct_option(qs[0]), 1, now)
    assert result.error.code == "attempt_not_found"


@pytest.mark.parametrize("response", [None, [], {"options": "1"}, {"options": [1, 2], "x": 1}, {"text": "a"},
                                      {"options": [True]}])
def test_malformed_responses_are_rejected(citizen, registration, round_, now, response):
    attempt, _qs = start(citizen, round_, now)
    result = attempt_answer(attempt_id=attempt.pk, user_id=citizen.pk, position=1, response=response,
                            client_seq=1, now=now)
    assert result.error.code == "invalid_response"


@pytest.mark.parametrize("seq", [0, -1, "1", 2**53, None, 1.5])
def test_bad_sequence_numbers_are_rejected(citizen, registration, round_, now, seq):
    attempt, qs = start(citizen, round_, now)
    result = attempt_answer(attempt_id=attempt.pk, user_id=citizen.pk, position=1,
                            response={"options": [correct_option(qs[0])]}, client_seq=seq, now=now)
    assert result.error.code == "invalid_seq"


def test_answers_to_a_submitted_attempt_are_rejected(citizen, registration, round_, now):
    attempt, qs = start(citizen, round_, now)
    attempt_submit(attempt=attempt, now=now + dt.timedelta(seconds=5))
    result = answer(attempt, citizen, qs[0], correct_option(qs[0]), 1, now + dt.timedelta(seconds=6))
    assert result.error.code == "attempt_closed"


def test_prediction_rules(citizen, registration, round_, now):
    from contests.services.attempts.answers import attempt_set_prediction

    attempt, _ = start(citizen, round_, now)
    ok = attempt_set_prediction(attempt_id=attempt.pk, user_id=citizen.pk, prediction=120, client_seq=4, now=now)
    assert ok.status == "stored"
    assert attempt_set_prediction(attempt_id=attempt.pk, user_id=citizen.pk, prediction=7, client_seq=3,
                                  now=now).status == "stale"
    bad = attempt_set_prediction(attempt_id=attempt.pk, user_id=citizen.pk, prediction=-3, client_seq=5, now=now)
    assert bad.error.code == "invalid_prediction"
    attempt.refresh_from_db()
    assert attempt.prediction == 120
    round_.prediction_enabled = False
    round_.save()
    off = attempt_set_prediction(attempt_id=attempt.pk, user_id=citizen.pk, prediction=1, client_seq=9, now=now)
    assert off.error.code == "prediction_disabled"


def test_state_has_no_keys_and_resumes_answers(citizen, registration, round_, now):
    import json

    attempt, qs = start(citizen, round_, now)
    answer(attempt, citizen, qs[2], wrong_option(qs[2]), 11, now)
    state = attempt_state(attempt=attempt, now=now + dt.timedelta(seconds=3))
    assert state["answers"] == {"3": {"response": {"options": [wrong_option(qs[2])]}, "seq": 11}}
    assert state["last_seq"] == 11
    assert state["deadline"] == attempt.deadline.isoformat()
    assert len(state["questions"]) == 5
    text = json.dumps(state)
    for forbidden in ("fraction", "explanation", "citation", "correct", "key", "accepted"):
        assert forbidden not in text


def test_one_at_a_time_releases_questions_in_order(citizen, registration, round_, now):
    from contests.services.attempts.answers import attempt_next_question

    round_.presentation = "one_at_a_time"
    round_.save()
    attempt, qs = start(citizen, round_, now)
    state = attempt_state(attempt=attempt, now=now)
    assert [q["position"] for q in state["questions"]] == [1]
    early = answer(attempt, citizen, qs[1], correct_option(qs[1]), 1, now)
    assert early.error.code == "question_not_released"
    assert answer(attempt, citizen, qs[0], correct_option(qs[0]), 2, now).status == "stored"
    released = attempt_next_question(attempt_id=attempt.pk, user_id=citizen.pk, now=now + dt.timedelta(seconds=4))
    assert released["position"] == 2
    assert "fraction" not in str(released)
    back = answer(attempt, citizen, qs[0], wrong_option(qs[0]), 3, now + dt.timedelta(seconds=5))
    assert back.error.code == "question_not_released"
    assert AttemptQuestion.objects.get(pk=qs[1].pk).shown_at == now + dt.timedelta(seconds=4)


def test_state_query_count_does_not_grow_with_answers(citizen, registration, round_, now,
                                                      django_assert_num_queries):
    attempt, qs = start(citizen, round_, now)
    for q in qs:
        answer(attempt, citizen, q, wrong_option(q), q.position, now)
    attempt = type(attempt).objects.select_related("round__contest").get(pk=attempt.pk)
    with django_assert_num_queries(2):  # questions, answers
        state = attempt_state(attempt=attempt, now=now)
    assert len(state["answers"]) == 5


def test_start_after_an_expired_attempt_finishes_it_and_starts_the_next(citizen, registration, round_, now):
    first = attempt_start(user=citizen, round=round_, now=now)
    later = first.deadline + dt.timedelta(minutes=1)
    second = attempt_start(user=citizen, round=round_, now=later)
    first.refresh_from_db()
    assert first.status == AttemptStatus.EXPIRED
    assert first.submitted_at == first.deadline
    assert second.number == 2


@pytest.mark.parametrize("store", ["contests", "realtime"])
def test_text_postgresql_cannot_store_is_refused_alone_and_the_rest_of_the_batch_is_stored(citizen, org_a, now,
                                                                                          store):
    """A NUL character or a lone surrogate in a text answer (any client can send one over the socket) would
    make PostgreSQL reject the whole group-commit batch: it is an invalid response of its own item."""
    from contests.services.attempts.answers import attempt_answers_store_batch
    from realtime.store import answers_store_batch
    from tests.contests.factories import ContestFactory, RoundFactory, bank, register

    bank(org_a, 3, type="essay")
    contest = ContestFactory(organisation=org_a, blueprint=[{"topic_id": None, "difficulty": None, "count": 3,
                                                            "points": None}])
    round_ = RoundFactory(contest=contest, opens_at=now - dt.timedelta(hours=1), closes_at=now + dt.timedelta(days=1))
    register(citizen, contest)
    attempt = attempt_start(user=citizen, round=round_, now=now)
    texts = {1: "Bài luận hợp lệ", 2: "có ký tự\x00rỗng", 3: "nửa cặp \ud800"}
    items = [{"attempt_id": attempt.pk, "user_id": citizen.pk, "position": p, "response": {"text": t},
              "client_seq": p} for p, t in texts.items()]

    save = attempt_answers_store_batch if store == "contests" else answers_store_batch
    results = save(items=items, now=now + dt.timedelta(seconds=5))

    assert [r.status for r in results] == ["stored", "error", "error"]
    assert all(isinstance(r.error, errors.InvalidResponse) for r in results[1:])
    assert list(Answer.objects.filter(attempt=attempt).values_list("attempt_question__position", "response")) == [
        (1, {"text": "Bài luận hợp lệ"})]
