"""Build a closed round with attempts and answers directly (full control over every stored value)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone

from contests.models import Answer, Attempt, AttemptQuestion, AttemptStatus, Registration, Round
from questionbank.models import Question
from tests.contests.factories import ContestFactory, QuestionFactory, RoundFactory
from tests.factories import CitizenProfileFactory, OrganisationFactory

FORMULA_NAME = "=HYPERLINK(\"http://evil.example\",\"bấm\")"
FORMULA_TEXTS = ["=1+1", "+1+1", "-1+1", "@SUM(A1:A2)", "\t=1+1", "\r=1+1"]


@dataclass
class ResultsData:
    round: Round
    questions: list[Question]
    attempts: list[Attempt] = field(default_factory=list)
    registrations: list[Registration] = field(default_factory=list)
    answers: int = 0


def make_attempt(*, round: Round, registration: Registration, questions: list[Question], correct: list[bool],
                 started_at: dt.datetime, seconds: int, prediction: int | None = None, number: int = 1,
                 texts: dict[int, str] | None = None, status: str = AttemptStatus.SUBMITTED) -> Attempt:
    """A finished attempt answering ``questions`` (choice questions: the right or a wrong option; short
    questions: ``texts[position]``), score = number correct."""
    submitted = started_at + dt.timedelta(seconds=seconds)
    attempt = Attempt.objects.create(
        round=round, registration=registration, user=registration.user, unit=registration.unit, number=number,
        status=status, started_at=started_at, deadline=started_at + dt.timedelta(minutes=15),
        submitted_at=submitted, submit_kind="client", score=Decimal(sum(correct)), correct_count=sum(correct),
        question_count=len(questions), duration_ms=seconds * 1000, prediction=prediction)
    texts = texts or {}
    for position, (question, ok) in enumerate(zip(questions, correct, strict=True), start=1):
        options = list(question.options.order_by("position", "id"))
        if question.type == "short":
            snapshot = {"type": "short", "stem": question.stem}
            key = {"accepted": [{"text": o.text, "fraction": str(o.fraction), "tolerance": None} for o in options]}
        else:
            snapshot = {"type": question.type, "stem": question.stem,
                        "options": [{"id": o.pk, "text": o.text} for o in options]}
            key = {"options": {str(o.pk): str(o.fraction) for o in options}}
        aq = AttemptQuestion.objects.create(attempt=attempt, position=position, question=question, points=Decimal(1),
                                            shown_at=started_at, snapshot=snapshot, key=key)
        if question.type == "short":
            response = {"text": texts.get(position, "Quốc hội" if ok else "Chính phủ")}
        else:
            chosen = next(o for o in options if (o.fraction > 0) == ok)
            response = {"options": [chosen.pk]}
        Answer.objects.create(attempt=attempt, attempt_question=aq, response=response, client_seq=position,
                              received_at=started_at + dt.timedelta(seconds=position * 7), is_correct=ok,
                              points_awarded=Decimal(1 if ok else 0))
    return attempt


def results_round(organisation, *, people: int = 4, unit_population: int | None = 200) -> ResultsData:
    """A closed round of ``organisation``'s contest: ``people`` contestants in two units, 3 questions each
    (2 single choice + 1 short text); the last contestant's name and short answer are formula-like."""
    now = timezone.now().replace(microsecond=0)
    contest = ContestFactory(organisation=organisation)
    round = RoundFactory(contest=contest, opens_at=now - dt.timedelta(days=7), closes_at=now - dt.timedelta(days=1),
                         closed_at=now - dt.timedelta(hours=20), prediction_target_value=2)
    units = [OrganisationFactory(name="Phường Cái Khế (thử)", registered_population=unit_population),
             OrganisationFactory(name="Xã Thới Lai (thử)")]
    questions = [QuestionFactory(organisation=organisation), QuestionFactory(organisation=organisation),
                 QuestionFactory(organisation=organisation, type="short")]
    data = ResultsData(round=round, questions=questions)
    for i in range(people):
        profile = CitizenProfileFactory(unit=units[i % 2])
        user = profile.user
        name = FORMULA_NAME if i == people - 1 else f"Trần Thị {i}"
        registration = Registration.objects.create(
            user=user, contest=contest, unit=units[i % 2], full_name=name, date_of_birth=dt.date(1990 + i, 3, 4),
            national_id=f"0920900{i:05d}")
        correct = [True, i % 2 == 0, i < 2]
        texts = {3: FORMULA_TEXTS[i % len(FORMULA_TEXTS)]} if i == people - 1 else None
        attempt = make_attempt(round=round, registration=registration, questions=questions, correct=correct,
                               started_at=round.opens_at + dt.timedelta(hours=i), seconds=100 + 10 * i,
                               prediction=i, texts=texts)
        data.attempts.append(attempt)
        data.registrations.append(registration)
        data.answers += len(questions)
    return data
