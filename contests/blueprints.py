"""Blueprints: which questions a round's draws may pick, how a draw is named in errors, and whether a
blueprint can be satisfied — the rules that drawing an attempt (``contests.services.attempts.start``) and checking
a blueprint in the admin (``blueprint_problems``) share.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.core.cache import cache
from django.db.models import BigIntegerField, Count, QuerySet
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from contests import errors
from contests.models import Round
from questionbank.models import Difficulty, Topic
from questionbank.selectors import questions_available_for

CANDIDATES_CACHE_SECONDS = 60


def draw_questions_available(*, organisation: Any, draw: dict) -> QuerySet:
    """The questions a random draw may pick for ``organisation`` (approved, current, its own or shared, of
    the draw's topic — with its subtopics — and difficulty)."""
    topic_id = draw.get("topic_id")
    return questions_available_for(organisation=organisation,
                                   topic_ids=[topic_id] if topic_id is not None else None,
                                   difficulty=draw.get("difficulty") or None)


def blueprint_candidates(*, round: Round, draw_index: int, draw: dict) -> list[tuple[int, int]]:
    """(question id, family id) of every question a draw may pick, cached for a minute per round and draw.

    A question approved or retired during that minute enters or leaves the draws up to a minute late;
    the snapshot still copies the exact version drawn (versions never change once used)."""
    digest = hashlib.sha1(json.dumps(draw, sort_keys=True).encode(), usedforsecurity=False).hexdigest()[:12]
    cache_key = f"contests:candidates:{round.contest.organisation_id}:{round.pk}:{draw_index}:{digest}"
    found = cache.get(cache_key)
    if found is None:
        found = [(qid, family or qid) for qid, family in draw_questions_available(
            organisation=round.contest.organisation, draw=draw).values_list("id", "family_id")]
        cache.set(cache_key, found, CANDIDATES_CACHE_SECONDS)
    return [tuple(x) for x in found]


def blueprint_cell_label(draw: dict) -> str:
    """"Topic path × difficulty" of a random draw, as named in errors: "Luật Giao thông / Xử phạt × Khó",
    "mọi chủ đề × mọi độ khó"."""
    topic_id = draw.get("topic_id")
    if topic_id is None:
        topic = _("mọi chủ đề")
    else:
        found = Topic.objects.filter(pk=topic_id).select_related("parent__parent__parent").first()
        topic = found.path if found is not None else _("chủ đề #%(id)s") % {"id": topic_id}
    difficulty = draw.get("difficulty")
    level = str(Difficulty(difficulty).label) if difficulty in Difficulty.values else _("mọi độ khó")
    return f"{topic} × {level}"


def blueprint_fixed_questions(*, organisation: Any, blueprint: list[dict]) -> dict[int, int]:
    """{question id: family id} of the blueprint's fixed questions that the organisation may put in a contest
    (approved, current, its own or shared). Raises ``BlueprintUnsatisfiable`` naming the unusable ones, or two
    fixed questions of one family."""
    wanted = [qid for entry in blueprint if "question_ids" in entry for qid in entry["question_ids"]]
    if not wanted:
        return {}
    found = {qid: family or qid for qid, family in questions_available_for(organisation=organisation)
             .filter(pk__in=wanted).values_list("id", "family_id")}
    missing = [qid for qid in wanted if qid not in found]
    if missing:
        raise errors.BlueprintUnsatisfiable.fixed_unusable(question_ids=missing)
    seen: dict[int, int] = {}
    for qid in wanted:
        family = found[qid]
        if family in seen:
            raise errors.BlueprintUnsatisfiable.fixed_unusable(question_ids=[seen[family], qid])
        seen[family] = qid
    return found


def blueprint_availability(*, organisation: Any, blueprint: list[dict],
                           exclude_families: set[int] | frozenset[int] = frozenset()) -> list[tuple[dict, int]]:
    """For each random draw: how many distinct question families it could pick from, not counting
    ``exclude_families`` (the fixed questions') — for the admin's validation."""
    result = []
    for draw in blueprint:
        if "question_ids" in draw:
            continue
        qs = draw_questions_available(organisation=organisation, draw=draw).annotate(
            fam=Coalesce("family_id", "id", output_field=BigIntegerField()))
        if exclude_families:
            qs = qs.exclude(fam__in=exclude_families)
        families = qs.aggregate(n=Count("fam", distinct=True))["n"]
        result.append((draw, families))
    return result


def blueprint_problems(*, organisation: Any, blueprint: list[dict]) -> list[str]:
    """Human-readable problems (Vietnamese) with a blueprint, empty when every entry can be satisfied: the
    same messages as ``BlueprintUnsatisfiable`` at draw time."""
    problems = []
    try:
        fixed = blueprint_fixed_questions(organisation=organisation, blueprint=blueprint)
    except errors.BlueprintUnsatisfiable as exc:
        problems.append(exc.message)
        fixed = {}
    for draw, available in blueprint_availability(organisation=organisation, blueprint=blueprint,
                                                  exclude_families=set(fixed.values())):
        if available < int(draw["count"]):
            problems.append(errors.BlueprintUnsatisfiable.for_cell(
                cell=blueprint_cell_label(draw), needed=int(draw["count"]), available=available).message)
    return problems
