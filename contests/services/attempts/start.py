"""Starting an attempt: the checks, the blueprint draw (no question family twice, a per-attempt option
order reproducible from the stored seed) and the snapshots of the drawn questions, kept apart from their keys.

``attempt_start`` locks the registration row, so one person's concurrent starts serialise and the second one
resumes the first attempt (also guaranteed by the ``attempt_one_in_progress`` constraint).
"""

from __future__ import annotations

import datetime as dt
import random
import secrets
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction

from contests import errors
from contests.blueprints import blueprint_candidates, blueprint_cell_label, blueprint_fixed_versions, twin_keys
from contests.limits import compute_deadline, grants_for, is_past_grace
from contests.models import (
    Attempt,
    AttemptQuestion,
    AttemptStatus,
    Presentation,
    Registration,
    Round,
    RoundSettings,
    SubmitKind,
)
from contests.services._common import resolve_now
from contests.services.attempts.finish import attempt_submit
from contests.services.fixed_questions import round_fixed_versions_pin
from questionbank.models import Question

CHOICE_TYPES = frozenset({"single", "multiple", "truefalse"})
SHUFFLED_TYPES = frozenset({"single", "multiple"})  # true/false keeps its natural "Đúng, Sai" order


def attempt_start(*, user: Any, round: Round, now: dt.datetime | None = None) -> Attempt:
    """Start an attempt in ``round`` for ``user``, or return their attempt in progress (resume).

    Checks: contest published, registered, round open, attempts left (max_attempts + extra-attempt grants).
    Draws the questions by the blueprint from approved, current questions the contest's organisation may
    use, snapshots them (stem, options — the key kept apart) and freezes the registration, all in one
    transaction. Raises ``ContestNotPublished``, ``NotRegistered``, ``RoundNotOpen``, ``NoAttemptsLeft``,
    ``BlueprintUnsatisfiable``.
    """
    now = resolve_now(now)
    round = Round.objects.select_related("contest").get(pk=round.pk)
    contest = round.contest
    if not contest.is_published:
        raise errors.ContestNotPublished()
    with transaction.atomic():
        registration = (Registration.objects.select_for_update()
                        .filter(user_id=user.pk, contest_id=contest.pk).first())
        if registration is None:
            raise errors.NotRegistered()
        # One query for both: how many attempts were used, and the one in progress if any.
        mine = list(Attempt.objects.filter(registration=registration, round=round).values_list("pk", "status"))
        current_id = next((pk for pk, status in mine if status == AttemptStatus.IN_PROGRESS), None)
        if current_id is not None:
            current = Attempt.objects.select_related("round__contest").get(pk=current_id)
            if not is_past_grace(current, now):
                return current
            attempt_submit(attempt=current, now=now, kind=SubmitKind.AUTO)  # locks and re-checks
        if not round.is_open(now) or round.closed_at is not None:
            raise errors.RoundNotOpen()
        settings = round.settings
        used = len(mine)
        extra = grants_for(registration_id=registration.pk, round_id=round.pk)
        if settings.max_attempts is not None and used >= settings.max_attempts + extra.attempts:
            raise errors.NoAttemptsLeft()
        seed = secrets.randbits(63)
        fixed = round_fixed_versions_pin(round=round, settings=settings, now=now)
        drawn = draw_questions(round=round, settings=settings, rng=random.Random(seed), fixed=fixed)
        deadline = compute_deadline(started_at=now, round=round, extra_seconds=extra.seconds)
        try:
            with transaction.atomic():
                attempt = Attempt.objects.create(
                    round=round, registration=registration, user_id=user.pk, unit_id=registration.unit_id,
                    number=used + 1, status=AttemptStatus.IN_PROGRESS, started_at=now, deadline=deadline,
                    question_count=len(drawn), draw_seed=seed,
                )
        except IntegrityError:  # a concurrent start won (only possible without the row lock, e.g. SQLite)
            return Attempt.objects.select_related("round__contest").get(
                registration=registration, round=round, status=AttemptStatus.IN_PROGRESS)
        one_at_a_time = settings.presentation == Presentation.ONE_AT_A_TIME
        AttemptQuestion.objects.bulk_create([
            AttemptQuestion(attempt=attempt, position=i, question_id=item.question_id, snapshot=item.snapshot,
                            key=item.key, points=item.points,
                            shown_at=now if (i == 1 or not one_at_a_time) else None)
            for i, item in enumerate(drawn, start=1)
        ])
        if registration.frozen_at is None:
            registration.frozen_at = now
            registration.save(update_fields=["frozen_at"])
    attempt.round = round
    return attempt


@dataclass(frozen=True)
class DrawnQuestion:
    question_id: int
    snapshot: dict
    key: dict
    points: Decimal


def draw_questions(*, round: Round, settings: RoundSettings, rng: random.Random | None = None,
                   candidates: Callable[[int, dict], list[tuple[int, int]]] | None = None,
                   fixed: dict[int, tuple[int, int]] | None = None) -> list[DrawnQuestion]:
    """Random questions per blueprint draw, no question family twice, choice options in a per-attempt
    order (all reproducible from ``rng``'s seed); snapshots without keys.

    Candidate ids per draw are cached briefly (see ``contests.blueprints.blueprint_candidates``) so a join storm at
    an announced start time does not rescan the bank for every contestant. ``candidates(draw_index, draw)``
    replaces that source of (question id, family id) pairs (practice mock exams draw from the practice pool).
    ``fixed`` ({named id: (version id, family id)}, the round's pinned versions — ``attempt_start`` passes
    them) says which version of each fixed question to show; without it, the version in force.
    """
    rng = rng or random.SystemRandom()
    chosen: list[tuple[int, Decimal | None]] = []
    # Fixed questions are checked now (still approved, current, usable) and their families are taken
    # before any random draw, wherever they sit in the blueprint: a draw never repeats a fixed question.
    if fixed is None:
        fixed = blueprint_fixed_versions(organisation=round.contest.organisation, blueprint=settings.blueprint)
    used_families: set[int] = {family for _version, family in fixed.values()}
    # Likely duplicates in other families (same article and answer, or the same text): never two in one
    # attempt (issue 25). The fixed questions' keys are taken first, like their families.
    used_twins: set[str] = set()
    if fixed:
        for answer, search in Question.objects.filter(pk__in=[v for v, _f in fixed.values()]).values_list(
                "answer_key", "search_key"):
            used_twins.update(twin_keys(answer, search).split())
    for index, draw in enumerate(settings.blueprint):
        points = Decimal(str(draw["points"])) if draw.get("points") is not None else None
        if "question_ids" in draw:
            chosen.extend((fixed[int(qid)][0], points) for qid in draw["question_ids"])
            continue
        source = (candidates(index, draw) if candidates is not None
                  else blueprint_candidates(round=round, draw_index=index, draw=draw))
        pool = sorted(c for c in source if c[1] not in used_families)
        count = int(draw["count"])
        picked = _sample_distinct_families(pool, count, rng, avoid=used_twins)
        if picked is None:
            raise errors.BlueprintUnsatisfiable.for_cell(
                cell=blueprint_cell_label(draw), needed=count, available=len({c[1] for c in pool}))
        for candidate in picked:
            used_families.add(candidate[1])
            used_twins.update(_keys(candidate))
            chosen.append((candidate[0], points))
    questions = Question.objects.prefetch_related("options", "media").in_bulk([qid for qid, _ in chosen])
    result = []
    for question_id, points in chosen:
        question = questions[question_id]
        snapshot, key = snapshot_question(question)
        if question.type in SHUFFLED_TYPES and snapshot.get("options"):
            # Per-attempt option order: where the writer put the correct option must not give it away.
            snapshot["options"] = rng.sample(snapshot["options"], len(snapshot["options"]))
        result.append(DrawnQuestion(question_id=question_id, snapshot=snapshot, key=key,
                                    points=points if points is not None else question.default_points))
    return result


def _keys(candidate: tuple) -> list[str]:
    return candidate[2].split() if len(candidate) > 2 and candidate[2] else []


def _sample_distinct_families(candidates: list[tuple], count: int, rng: random.Random,
                              avoid: set[str] | None = None) -> list[tuple] | None:
    """``count`` candidates of distinct families, no two sharing a twin key (nor one in ``avoid``).

    The first pick is the one the draw always made (a sample of families, then a version of each), so a seed
    drawn before twin keys existed replays the same unless that pick held twins; only then are the clashing
    picks replaced, in an order that the seed also fixes. None when the pool cannot give ``count``."""
    avoid = set(avoid or ())
    by_family: dict[int, list[tuple]] = defaultdict(list)
    for candidate in sorted(candidates):  # a canonical order: the same seed gives the same pick
        by_family[candidate[1]].append(candidate)
    if len(by_family) < count:
        return None
    families = rng.sample(sorted(by_family), count)
    picked = [rng.choice(by_family[f]) for f in families]
    keys = [k for c in picked for k in _keys(c)]
    if not (set(keys) & avoid) and len(keys) == len(set(keys)):
        return picked
    # Keep the picks that clash with nothing before them; refill from the other families in a seeded order.
    kept: list[tuple] = []
    taken = set(avoid)
    for candidate in picked:
        if not set(_keys(candidate)) & taken:
            kept.append(candidate)
            taken.update(_keys(candidate))
    rest = [f for f in sorted(by_family) if f not in families]
    for family in rng.sample(rest, len(rest)):
        if len(kept) == count:
            break
        options = [c for c in by_family[family] if not set(_keys(c)) & taken]
        if options:
            choice = rng.choice(options)
            kept.append(choice)
            taken.update(_keys(choice))
    return kept if len(kept) == count else None


def snapshot_question(question: Any) -> tuple[dict, dict]:
    """(public snapshot, private key) of one question version. The snapshot never says what is correct."""
    options = list(question.options.all())
    snapshot: dict[str, Any] = {"type": question.type, "stem": question.stem}
    key: dict[str, Any] = {
        "explanation": question.explanation,
        "citation": question.citation,
    }
    if question.type in CHOICE_TYPES:
        snapshot["options"] = [{"id": option.pk, "text": option.text} for option in options]
        key["options"] = {str(option.pk): str(option.fraction) for option in options}
        key["feedback"] = {str(option.pk): option.feedback for option in options if option.feedback}
    elif question.type in {"numeric", "short"}:
        key["accepted"] = [{"text": option.text, "fraction": str(option.fraction),
                            "tolerance": str(option.tolerance) if option.tolerance is not None else None}
                           for option in options]
    media = [{"kind": m.kind, "url": m.file.url} for m in question.media.all()]
    if media:
        snapshot["media"] = media
    return snapshot, key
