"""Read-side queries about contests shared by views, consumers, the admin and jobs."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, F, Max, Min, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import Organisation
from contests import errors
from contests.limits import extra_attempts_for, is_past_grace
from contests.models import (
    FINISHED_STATUSES,
    Attempt,
    AttemptQuestion,
    AttemptStatus,
    Contest,
    ContestVisibility,
    PredictionTarget,
    Registration,
    Round,
)
from questionbank.models import Question

# --- Public pages -------------------------------------------------------------------------------


def contest_list_public() -> QuerySet[Contest]:
    """Published contests, newest first, with their number of rounds and overall schedule."""
    return (Contest.objects.filter(visibility=ContestVisibility.PUBLISHED)
            .select_related("organisation")
            .annotate(round_count=Count("rounds"), first_opens=Min("rounds__opens_at"),
                      last_closes=Max(Coalesce("rounds__extended_until", "rounds__closes_at")))
            .order_by("-created_at", "-id"))


def contest_get_public(*, slug: str) -> Contest:
    contest = Contest.objects.select_related("organisation").filter(
        slug=slug, visibility=ContestVisibility.PUBLISHED).first()
    if contest is None:
        raise errors.NotFound()
    return contest


def contest_participation(*, contest: Contest) -> dict[str, int]:
    """How many have taken part: registrations, people with a finished attempt, finished attempts."""
    finished = Attempt.objects.filter(round__contest=contest, status__in=FINISHED_STATUSES)
    return {
        "registrations": Registration.objects.filter(contest=contest).count(),
        "entrants": finished.values("registration_id").distinct().count(),
        "attempts": finished.count(),
    }


def units_for_registration(*, contest: Contest) -> QuerySet:
    """Units a contestant may choose: the contest's allowed units, or every active unit."""
    units = Organisation.objects.filter(is_unit=True, is_active=True)
    if contest.allowed_units.exists():
        units = units.filter(pk__in=contest.allowed_units.values("pk"))
    return units.order_by("name")


def round_current(*, contest: Contest, now: dt.datetime) -> Round | None:
    """The round open now, else the next one to open, else None."""
    rounds = list(contest.rounds.all())
    for round in rounds:
        round.contest = contest
        if round.is_open(now) and round.closed_at is None:
            return round
    upcoming = [r for r in rounds if r.opens_at > now]
    return min(upcoming, key=lambda r: r.opens_at) if upcoming else None


def registration_for(*, user: Any, contest: Contest) -> Registration | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return Registration.objects.filter(user_id=user.pk, contest=contest).first()


def attempts_left(*, registration: Registration, round: Round) -> int | None:
    """Attempts this contestant may still start in ``round`` (None = unlimited)."""
    maximum = round.settings.max_attempts
    if maximum is None:
        return None
    used = Attempt.objects.filter(registration=registration, round=round).count()
    return max(0, maximum + extra_attempts_for(registration_id=registration.pk, round_id=round.pk) - used)


def attempt_in_progress(*, registration: Registration, round: Round) -> Attempt | None:
    return Attempt.objects.filter(registration=registration, round=round, status=AttemptStatus.IN_PROGRESS).first()


def attempts_of_user(*, user: Any) -> QuerySet[Attempt]:
    """"My attempts": newest first, with their round and contest."""
    return (Attempt.objects.filter(user_id=user.pk).select_related("round__contest")
            .order_by("-started_at", "-id"))


def attempt_get_for_user(*, attempt_id: int, user_id: int) -> Attempt:
    """The attempt if it belongs to ``user_id`` (someone else's attempt is indistinguishable from a missing
    one: ``AttemptNotFound``), as stored: a read never finishes an attempt whose time is up — ask
    ``attempt_status_at``; the writer path (``services.attempts.finish.attempt_finalise_if_expired``) or the
    sweeper finishes it."""
    attempt = (Attempt.objects.select_related("round__contest", "registration")
               .filter(pk=attempt_id, user_id=user_id).first())
    if attempt is None:
        raise errors.AttemptNotFound()
    return attempt


def attempt_status_at(*, attempt: Attempt, now: dt.datetime) -> str:
    """The attempt's status as of ``now``: "expired" for one still in progress past deadline + grace (nobody
    has finished it yet), else its stored status. Writes nothing."""
    if attempt.status == AttemptStatus.IN_PROGRESS and is_past_grace(attempt, now):
        return AttemptStatus.EXPIRED
    return attempt.status


# --- Answer keys ---------------------------------------------------------------------------------


def review_allowed(*, attempt: Attempt, now: dt.datetime) -> bool:
    """Correct answers may be shown once the round has closed, or right after a finished attempt when the
    round allows it and has exactly one attempt per person. Never for an attempt in progress."""
    if attempt.status == AttemptStatus.IN_PROGRESS:
        return False
    round = attempt.round
    if round.has_closed(now) or round.closed_at is not None:
        return True
    settings = round.settings
    return bool(settings.reveal_answers_after_attempt and settings.max_attempts == 1
                and attempt.status in FINISHED_STATUSES)


def attempt_review(*, attempt: Attempt, now: dt.datetime) -> list[dict[str, Any]] | None:
    """Per question: the contestant's answer, whether it was correct, points, and — only when
    ``review_allowed`` — the correct answer, explanation and legal citation. ``None`` when not allowed."""
    if not review_allowed(attempt=attempt, now=now):
        return None
    questions = list(AttemptQuestion.objects.filter(attempt=attempt).order_by("position"))
    answers = {a.attempt_question_id: a for a in attempt.answers.all()}
    items = []
    for q in questions:
        answer = answers.get(q.pk)
        key = q.key or {}
        option_credit = key.get("options", {})
        options = [{"id": o["id"], "text": o["text"],
                    "correct": float(option_credit.get(str(o["id"]), 0)) > 0,
                    "chosen": bool(answer and o["id"] in (answer.response or {}).get("options", []))}
                   for o in q.snapshot.get("options", [])]
        items.append({
            "position": q.position,
            "type": q.snapshot.get("type"),
            "stem": q.snapshot.get("stem", ""),
            "options": options,
            "accepted": [a["text"] for a in key.get("accepted", []) if float(a.get("fraction") or 0) >= 1],
            "response": answer.response if answer else None,
            "is_correct": answer.is_correct if answer else False,
            "points_awarded": answer.points_awarded if answer else None,
            "points": q.points,
            "explanation": key.get("explanation", ""),
            "citation": key.get("citation", ""),
        })
    return items


# --- Round close ------------------------------------------------------------------------------------


def round_prediction_target(*, round: Round) -> int:
    """The real value contestants predicted, per the round's setting (computed from the database)."""
    finished = Attempt.objects.filter(round=round, status__in=FINISHED_STATUSES)
    kind = round.settings.prediction_target_kind
    perfect = finished.filter(correct_count__gte=1, question_count__gt=0).filter(
        correct_count=F("question_count"))
    if kind == PredictionTarget.PERFECT_PEOPLE:
        return perfect.values("registration_id").distinct().count()
    if kind == PredictionTarget.PERFECT_ATTEMPTS:
        return perfect.count()
    if kind == PredictionTarget.ENTRANTS:
        return finished.values("registration_id").distinct().count()
    return finished.count()


# --- Fixed questions -------------------------------------------------------------------------------


def rounds_with_fixed_question(*, question: Any, now: dt.datetime | None = None) -> list[Round]:
    """Rounds not closed yet (open or to come) whose effective blueprint names any version of ``question``'s
    family as a fixed question. Rounds still to run are few (a few hundred on a city installation), so their
    blueprints are read in Python rather than searched in JSON."""
    now = now or timezone.now()
    family = question.family_id or question.pk
    ids = set(Question.objects.filter(Q(family_id=family) | Q(pk=family)).values_list("id", flat=True))
    rounds = (Round.objects.filter(closed_at__isnull=True)
              .filter(Q(closes_at__gt=now) | Q(extended_until__gt=now)).select_related("contest")
              .order_by("opens_at", "id"))
    found = []
    for round in rounds:
        blueprint = round.settings.blueprint or []
        if any(int(qid) in ids for entry in blueprint if isinstance(entry, dict) and "question_ids" in entry
               for qid in entry["question_ids"]):
            found.append(round)
    return found
