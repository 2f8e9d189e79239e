"""Writes of practice: start a session (by topic, document, wrong answers, or a mock exam drawn like a
round's blueprint), answer a question (feedback with the key, explanation and citation), finish.

Time is the server's: a timed session's deadline is stored at the start; answers after deadline + grace are
refused and the session is finished at its deadline. An answer is final (the key has been shown): a resend
returns the stored feedback, never a second grading. Every question is checked against the leak rule again
when answered (``selectors.is_practicable``), so a round created after the draw hides its questions at once.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
import secrets
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from contests.errors import BlueprintUnsatisfiable
from contests.models import Round
from contests.scoring import grade_response
from contests.services.attempts.answers import validate_response
from contests.services.attempts.start import CHOICE_TYPES, SHUFFLED_TYPES, draw_questions
from practice import errors, selectors
from practice.models import PracticeItem, PracticeMode, PracticeSession
from questionbank.models import Question, QuestionOption, Topic
from questionbank.selectors import topic_descendant_ids

COUNT_CHOICES = (5, 10, 20)
MINUTE_CHOICES = (5, 10, 15, 30)


def grace() -> dt.timedelta:
    return dt.timedelta(seconds=int(getattr(settings, "PRACTICE_GRACE_SECONDS", 5)))


def _profile_unit_id(user: Any) -> int | None:
    try:
        return user.profile.unit_id
    except ObjectDoesNotExist:  # staff accounts have no citizen profile
        return None


def _draw_plain(candidates: list[tuple[int, int]], count: int, rng: random.Random) -> list[int]:
    by_family: dict[int, int] = {}
    for qid, fam in sorted(candidates):
        by_family.setdefault(fam, qid)
    families = sorted(by_family)
    return [by_family[f] for f in rng.sample(families, min(count, len(families)))]


def _create(*, user: Any, mode: str, question_ids: list[int], rng: random.Random, seed: int, now: dt.datetime,
            topic: Topic | None = None, document: str = "", source_round: Round | None = None,
            minutes: int | None = None, immediate_feedback: bool = True,
            option_orders: dict[int, list[int]] | None = None) -> PracticeSession:
    if not question_ids:
        raise errors.NoQuestions()
    questions = Question.objects.in_bulk(question_ids)
    options: dict[int, list[int]] = {}
    for qid, oid in QuestionOption.objects.filter(question_id__in=question_ids).order_by(
            "question_id", "position", "id").values_list("question_id", "id"):
        options.setdefault(qid, []).append(oid)
    unit_id = _profile_unit_id(user)
    with transaction.atomic():
        session = PracticeSession.objects.create(
            user=user, mode=mode, topic=topic, document=document, source_round=source_round,
            immediate_feedback=immediate_feedback, time_limit_seconds=minutes * 60 if minutes else None,
            started_at=now, deadline=now + dt.timedelta(minutes=minutes) if minutes else None,
            question_count=len(question_ids), draw_seed=seed)
        items = []
        for position, qid in enumerate(question_ids, start=1):
            question = questions[qid]
            order = (option_orders or {}).get(qid)
            if order is None:
                order = options.get(qid, []) if question.type in CHOICE_TYPES else []
                if question.type in SHUFFLED_TYPES:
                    order = rng.sample(order, len(order))
            items.append(PracticeItem(session=session, position=position, question=question,
                                      family_id=question.family_id or question.pk, user=user,
                                      topic_id=question.topic_id, unit_id=unit_id, option_order=order))
        PracticeItem.objects.bulk_create(items)
    return session


def practice_session_start(*, user: Any, mode: str, topic_id: int | None = None, document: str = "",
                           count: int = 10, minutes: int | None = None,
                           now: dt.datetime | None = None) -> PracticeSession:
    """Start a practice session of ``count`` questions from the practice pool: all topics, one topic (with its
    sub-topics), one legal document, or the questions whose latest answer was wrong. ``minutes`` makes it
    timed. Raises ``InvalidChoice`` for an unknown option, ``NoQuestions`` when nothing may be practised."""
    now = now or timezone.now()
    if count not in COUNT_CHOICES or (minutes is not None and minutes not in MINUTE_CHOICES):
        raise errors.InvalidChoice()
    topic = None
    if mode == PracticeMode.MIXED:
        pool = selectors.practice_pool(now=now)
    elif mode == PracticeMode.TOPIC:
        topic = Topic.objects.filter(pk=topic_id).first() if topic_id is not None else None
        if topic is None:
            raise errors.InvalidChoice()
        pool = selectors.practice_pool(now=now).filter(topic_id__in=topic_descendant_ids([topic.pk]))
    elif mode == PracticeMode.DOCUMENT:
        document = (document or "").strip()[:60]
        if not document:
            raise errors.InvalidChoice()
        pool = selectors.practice_pool(now=now).filter(citation_document=document)
    elif mode == PracticeMode.WRONG:
        pool = selectors.wrong_pool(user=user, now=now)
    else:
        raise errors.InvalidChoice()
    seed = secrets.randbits(63)
    rng = random.Random(seed)
    candidates = [(qid, fam or qid) for qid, fam in pool.values_list("id", "family_id")]
    return _create(user=user, mode=mode, question_ids=_draw_plain(candidates, count, rng), rng=rng, seed=seed,
                   now=now, topic=topic, document=document if mode == PracticeMode.DOCUMENT else "",
                   minutes=minutes)


def practice_mock_start(*, user: Any, round: Round, now: dt.datetime | None = None) -> PracticeSession:
    """A mock exam shaped like ``round`` (a closed round of a published contest): its blueprint's cells drawn by
    the contests' own draw (``draw_questions``: one question per family, per-attempt option order) from the
    practice pool, its time limit, feedback on the summary. Raises ``MockUnavailable``."""
    now = now or timezone.now()
    round = Round.objects.select_related("contest").get(pk=round.pk)
    if round.contest.visibility != "published" or not (round.closed_at is not None or round.has_closed(now)):
        raise errors.MockUnavailable()
    blueprint = selectors.mock_blueprint(round=round)
    if not blueprint:
        raise errors.MockUnavailable()
    seed = secrets.randbits(63)
    rng = random.Random(seed)
    mock_settings = dataclasses.replace(round.settings, blueprint=blueprint)
    try:
        drawn = draw_questions(round=round, settings=mock_settings, rng=rng,
                               candidates=lambda _index, draw: selectors.mock_candidates(draw=draw, now=now))
    except BlueprintUnsatisfiable as exc:
        raise errors.MockUnavailable(f"{errors.MockUnavailable.default_message} {exc.message}") from exc
    orders = {d.question_id: [o["id"] for o in d.snapshot.get("options", [])] for d in drawn}
    session = _create(user=user, mode=PracticeMode.MOCK, question_ids=[d.question_id for d in drawn], rng=rng,
                      seed=seed, now=now, source_round=round, immediate_feedback=False, option_orders=orders)
    # The mock's clock is the round's own limit (not one of the practice choices).
    PracticeSession.objects.filter(pk=session.pk).update(
        time_limit_seconds=round.settings.time_limit_seconds,
        deadline=now + dt.timedelta(seconds=round.settings.time_limit_seconds))
    session.refresh_from_db()
    return session


# --- Answering ------------------------------------------------------------------------------------------------


@dataclass
class Feedback:
    """What the citizen is told after an answer. Key fields are filled only when the session gives immediate
    feedback (or on the summary); ``saved`` alone for a mock exam in progress."""

    position: int
    is_correct: bool
    response: Any
    correct_option_ids: list[int] = field(default_factory=list)
    accepted: list[str] = field(default_factory=list)
    option_feedback: dict[str, str] = field(default_factory=dict)
    explanation: str = ""
    citation: str = ""
    show_key: bool = True
    already_answered: bool = False
    item: Any = field(default=None, repr=False)  # the PracticeItem, with its session
    view: dict[str, Any] = field(default_factory=dict, repr=False)  # the question as shown

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"position": self.position, "saved": True, "already_answered": self.already_answered}
        if self.show_key:
            data.update({"is_correct": self.is_correct, "correct_option_ids": self.correct_option_ids,
                         "accepted": self.accepted, "option_feedback": self.option_feedback,
                         "explanation": self.explanation, "citation": self.citation})
        return data


# Options (the key) of practised question versions, per process: a version used in practice never changes
# except by an audited correction (questionbank.services.review.question_correct), which drops it here at once and in
# other processes within OPTIONS_CACHE_SECONDS. Saves the answer path one query.
OPTIONS_CACHE_SECONDS = 60
_options_cache: dict[int, tuple[float, list[QuestionOption]]] = {}


def _options_of(question: Question) -> list[QuestionOption]:
    prefetched = getattr(question, "_prefetched_objects_cache", {}).get("options")
    if prefetched is not None:
        return list(prefetched)
    found = _options_cache.get(question.pk)
    now = time.monotonic()
    if found is None or found[0] < now:
        if len(_options_cache) > 20_000:
            _options_cache.clear()
        found = (now + OPTIONS_CACHE_SECONDS, list(QuestionOption.objects.filter(question_id=question.pk)
                                                   .order_by("position", "id")))
        _options_cache[question.pk] = found
    return found[1]


def options_forget(*, question: Any, **_kwargs: Any) -> None:
    _options_cache.pop(getattr(question, "pk", None), None)


def question_view(question: Question, option_order: list[int]) -> dict[str, Any]:
    """The question as shown (stem and options in the session's order), and its key:
    ``{"type", "stem", "options": [{"id", "text"}]}``, ``{"options": {id: fraction}, "accepted": […],
    "feedback": {id: text}, "explanation", "citation"}``."""
    options = _options_of(question)
    by_id = {o.pk: o for o in options}
    shown = [by_id[i] for i in option_order if i in by_id] if option_order else []
    view: dict[str, Any] = {"type": question.type, "stem": question.stem,
                            "options": [{"id": o.pk, "text": o.text} for o in shown]}
    key: dict[str, Any] = {"explanation": question.explanation, "citation": question.citation}
    if question.type in CHOICE_TYPES:
        key["options"] = {str(o.pk): str(o.fraction) for o in options}
        key["feedback"] = {str(o.pk): o.feedback for o in options if o.feedback}
    else:
        key["accepted"] = [{"text": o.text, "fraction": str(o.fraction),
                            "tolerance": str(o.tolerance) if o.tolerance is not None else None} for o in options]
    return {"view": view, "key": key}


def feedback_for(item: PracticeItem, shown: dict[str, Any], *, show_key: bool,
                 already: bool = False) -> Feedback:
    key = shown["key"]
    return Feedback(
        position=item.position, is_correct=bool(item.is_correct), response=item.response,
        correct_option_ids=sorted(int(i) for i, f in key.get("options", {}).items() if Decimal(f) > 0),
        accepted=[a["text"] for a in key.get("accepted", []) if Decimal(a.get("fraction") or 0) >= 1],
        option_feedback=dict(key.get("feedback", {})), explanation=key.get("explanation", ""),
        citation=key.get("citation", ""), show_key=show_key, already_answered=already, item=item,
        view=shown["view"])


def _finish_if_due(session: PracticeSession, now: dt.datetime) -> bool:
    """Finish a timed session whose deadline + grace has passed (finish time = the deadline)."""
    if session.finished_at is None and session.deadline is not None and now > session.deadline + grace():
        PracticeSession.objects.filter(pk=session.pk, finished_at__isnull=True).update(finished_at=session.deadline)
        session.finished_at = session.deadline
        return True
    return False


def practice_answer(*, user: Any, session_id: int, position: int, response: Any,
                    now: dt.datetime | None = None) -> Feedback:
    """Grade and store the answer to one question of the user's session; returns the feedback (with the session,
    the item and the question as shown, so a page needs no further query).

    Idempotent: a question already answered returns its stored feedback (``already_answered``), whatever is
    sent. Raises ``SessionNotFound`` (also for someone else's session), ``SessionFinished``, ``TimeUp``,
    ``QuestionWithdrawn`` (the leak rule now covers it), ``InvalidResponse``. Queries: the item with its session
    and question, the options, then in one transaction a conditional UPDATE of the item (no lock:
    ``answered_at IS NULL`` decides between two taps) and the session's finish when nothing is left to answer.
    """
    now = now or timezone.now()
    item = (PracticeItem.objects.select_related("session", "question").filter(
        session_id=session_id, position=position, session__user_id=user.pk).first()
            if isinstance(position, int) and isinstance(session_id, int) else None)
    if item is None:
        raise errors.SessionNotFound()
    session, question = item.session, item.question
    shown = question_view(question, item.option_order)
    show_key = session.immediate_feedback
    if item.answered_at is not None:
        return feedback_for(item, shown, show_key=show_key or session.is_finished, already=True)
    if session.finished_at is not None:
        raise errors.SessionFinished()
    if _finish_if_due(session, now):
        raise errors.TimeUp()
    if not selectors.is_practicable(question=question, now=now):
        raise errors.QuestionWithdrawn()
    normalised = validate_response(shown["view"], response)
    _fraction, full = grade_response(qtype=question.type, key=shown["key"], response=normalised, partial=False)
    with transaction.atomic():
        updated = PracticeItem.objects.filter(pk=item.pk, answered_at__isnull=True).update(
            response=normalised, is_correct=bool(full), answered_at=now)
        if updated:
            finished = PracticeSession.objects.filter(pk=session.pk, finished_at__isnull=True).exclude(
                Exists(PracticeItem.objects.filter(session_id=OuterRef("pk"), answered_at__isnull=True))
            ).update(finished_at=now)
    if not updated:  # answered concurrently (two taps, two tabs): the first one counts
        item.refresh_from_db()
        return feedback_for(item, shown, show_key=show_key, already=True)
    item.response, item.is_correct, item.answered_at = normalised, bool(full), now
    if finished:
        session.finished_at = now
    return feedback_for(item, shown, show_key=show_key)


def practice_session_finish(*, user: Any, session_id: int, now: dt.datetime | None = None) -> PracticeSession:
    """End a session early (unanswered questions stay unanswered). Idempotent."""
    now = now or timezone.now()
    session = PracticeSession.objects.filter(pk=session_id, user_id=user.pk).first()
    if session is None:
        raise errors.SessionNotFound()
    if session.finished_at is None and not _finish_if_due(session, now):
        end = min(now, session.deadline) if session.deadline else now
        PracticeSession.objects.filter(pk=session.pk, finished_at__isnull=True).update(finished_at=end)
        session.refresh_from_db()
    return session


def practice_session_get(*, user: Any, session_id: int, now: dt.datetime | None = None) -> PracticeSession:
    """The user's session (someone else's is ``SessionNotFound``), finished lazily when its time is up."""
    session = (PracticeSession.objects.select_related("topic", "source_round__contest")
               .filter(pk=session_id, user_id=user.pk).first())
    if session is None:
        raise errors.SessionNotFound()
    _finish_if_due(session, now or timezone.now())
    return session


def next_item(*, session: PracticeSession, now: dt.datetime) -> PracticeItem | None:
    """The first unanswered question that may still be practised; withdrawn ones are passed over. Finishes the
    session when none is left."""
    if session.finished_at is not None:
        return None
    reservation = selectors.reservation_current(now=now)
    for item in (PracticeItem.objects.filter(session=session, answered_at__isnull=True)
                 .select_related("question").order_by("position")):
        if selectors.is_practicable(question=item.question, now=now, reservation=reservation):
            return item
    PracticeSession.objects.filter(pk=session.pk, finished_at__isnull=True).update(finished_at=now)
    session.finished_at = now
    return None


def session_review(*, session: PracticeSession, now: dt.datetime) -> list[dict[str, Any]]:
    """Every question of a finished session with the answer given and — unless the leak rule covers it now —
    the key, explanation and citation."""
    items = list(PracticeItem.objects.filter(session=session).select_related("question").prefetch_related(
        "question__options").order_by("position"))
    review = []
    reservation = selectors.reservation_current(now=now)
    for item in items:
        shown = question_view(item.question, item.option_order)
        withheld = not selectors.is_practicable(question=item.question, now=now, reservation=reservation)
        fb = feedback_for(item, shown, show_key=not withheld)
        review.append({"item": item, "view": shown["view"], "feedback": fb, "withheld": withheld})
    return review


# --- Hooks for other apps ----------------------------------------------------------------------------------


def question_practised(question: Any) -> bool:
    """Question-bank hook: a practised version never changes in place (an edit makes a new version)."""
    return PracticeItem.objects.filter(question_id=question.pk).exists()


def personal_data_export(user: Any) -> dict[str, Any]:
    """"Dữ liệu của tôi": the citizen's practice sessions and answers."""
    sessions = []
    for session in PracticeSession.objects.filter(user_id=user.pk).order_by("started_at"):
        sessions.append({
            "mode": session.mode, "started_at": session.started_at.isoformat(),
            "finished_at": session.finished_at.isoformat() if session.finished_at else None,
            "answers": [{"position": p, "question_id": q, "response": r, "is_correct": c,
                         "answered_at": a.isoformat() if a else None}
                        for p, q, r, c, a in session.items.order_by("position").values_list(
                            "position", "question_id", "response", "is_correct", "answered_at")],
        })
    return {"practice_sessions": sessions}


def personal_data_anonymise(user: Any) -> None:
    """Account deletion: practice answers stay in the aggregates (unit, topic, correctness) but lose the typed
    text of short answers; the rows already point to the anonymised account."""
    PracticeItem.objects.filter(user_id=user.pk).filter(~Q(response__has_key="options")).update(response=None)

