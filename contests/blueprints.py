"""Blueprints: which questions a round's draws may pick, how a draw is named in errors, and whether a
blueprint can be satisfied — the rules that drawing an attempt (``contests.services.attempts.start``) and checking
a blueprint in the admin (``blueprint_problems``) share.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db.models import BigIntegerField, Count, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from contest_engine.numbers import format_count
from contest_engine.text import vietnamese_sort_key
from contests import errors
from contests.models import Round
from questionbank.models import Difficulty, Question, QuestionStatus, Topic
from questionbank.selectors import questions_available_for, questions_visible_q

CANDIDATES_CACHE_SECONDS = 60


def draw_questions_available(*, organisation: Any, draw: dict) -> QuerySet:
    """The questions a random draw may pick for ``organisation`` (approved, current, its own or shared, of
    the draw's topic — with its subtopics — and difficulty)."""
    topic_id = draw.get("topic_id")
    return questions_available_for(organisation=organisation,
                                   topic_ids=[topic_id] if topic_id is not None else None,
                                   difficulty=draw.get("difficulty") or None)


def blueprint_candidates(*, round: Round, draw_index: int, draw: dict) -> list[tuple]:
    """(question id, family id, twin keys) of every question a draw may pick, cached for a minute per round
    and draw. The twin keys (``answer_key``, ``search_key``) mark likely duplicates in other families — one
    attempt never draws two questions sharing one (``contests.services.attempts.start``).

    A question approved or retired during that minute enters or leaves the draws up to a minute late;
    the snapshot still copies the exact version drawn (versions never change once used)."""
    digest = hashlib.sha1(json.dumps(draw, sort_keys=True).encode(), usedforsecurity=False).hexdigest()[:12]
    cache_key = f"contests:candidates:v2:{round.contest.organisation_id}:{round.pk}:{draw_index}:{digest}"
    found = cache.get(cache_key)
    if found is None:
        found = [(qid, family or qid, twin_keys(answer, search)) for qid, family, answer, search in
                 draw_questions_available(organisation=round.contest.organisation, draw=draw)
                 .values_list("id", "family_id", "answer_key", "search_key")]
        cache.set(cache_key, found, CANDIDATES_CACHE_SECONDS)
    return [tuple(x) for x in found]


def twin_keys(answer_key: str, search_key: str) -> str:
    """The keys two likely duplicates share, as one string ("a:<answer key> s:<search key>", empty parts
    left out): the same cited article and correct answer, or the same text up to accents and punctuation."""
    return " ".join(part for part in (f"a:{answer_key}" if answer_key else "",
                                      f"s:{search_key}" if search_key else "") if part)


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


def fixed_question_ids(blueprint: list[dict]) -> list[int]:
    """The question ids the blueprint's fixed entries name, in blueprint order."""
    return [int(qid) for entry in blueprint if "question_ids" in entry for qid in entry["question_ids"]]


def fixed_versions_in_force(*, organisation: Any, question_ids: list[int]) -> tuple[dict[int, tuple[int, int]],
                                                                                     list[int]]:
    """The version in force of each named question, whatever version the id names:
    ``({named id: (version id, family id)}, [unusable named ids])``.

    A blueprint names a *question*, not one version of it: the writer may edit it after the round was set up
    (a used version is never changed; the edit is a new version, in review). The version in force is the
    newest **approved** version of the family — the current one once approved, else the one it replaced —
    provided the question is still in the bank (it has a current version, not retired) and the organisation
    may use it (its own, or shared). Two queries whatever the number of ids."""
    if not question_ids:
        return {}, []
    visible = questions_visible_q([organisation.pk])
    family_of = {qid: family or qid for qid, family in Question.objects.filter(pk__in=question_ids)
                 .filter(visible).values_list("id", "family_id")}
    families = set(family_of.values())
    live: set[int] = set()  # families with a current version that is not retired
    best: dict[int, tuple[int, int]] = {}  # family -> (version, id)
    rows = (Question.objects.filter(Q(family_id__in=families) | Q(pk__in=families, family_id__isnull=True))
            .filter(visible).values_list("id", "family_id", "version", "status", "is_current"))
    for qid, family, version, status, is_current in rows:
        family = family or qid
        if is_current and status != QuestionStatus.RETIRED:
            live.add(family)
        if status == QuestionStatus.APPROVED and (family not in best or version > best[family][0]):
            best[family] = (version, qid)
    found: dict[int, tuple[int, int]] = {}
    unusable: list[int] = []
    for qid in question_ids:
        family = family_of.get(qid)
        if family is None or family not in live or family not in best:
            unusable.append(qid)
        else:
            found[qid] = (best[family][1], family)
    return found, unusable


def blueprint_fixed_versions(*, organisation: Any, blueprint: list[dict],
                             pinned: dict[int, int] | None = None) -> dict[int, tuple[int, int]]:
    """{named id: (version id to show, family id)} of the blueprint's fixed questions. ``pinned`` ({family id:
    version id}, a round's ``RoundFixedVersion`` rows) wins over the version in force for the families it
    names, as long as the question is still usable at all. Raises ``BlueprintUnsatisfiable`` naming the
    unusable ones, or two fixed questions of one family."""
    wanted = fixed_question_ids(blueprint)
    if not wanted:
        return {}
    found, unusable = fixed_versions_in_force(organisation=organisation, question_ids=wanted)
    if unusable:
        raise errors.BlueprintUnsatisfiable.fixed_unusable(question_ids=unusable)
    seen: dict[int, int] = {}
    for qid in wanted:
        family = found[qid][1]
        if family in seen:
            raise errors.BlueprintUnsatisfiable.fixed_unusable(question_ids=[seen[family], qid])
        seen[family] = qid
    if pinned:
        found = {qid: ((pinned[family], family) if family in pinned else (version, family))
                 for qid, (version, family) in found.items()}
    return found


def blueprint_fixed_questions(*, organisation: Any, blueprint: list[dict]) -> dict[int, int]:
    """{named id: family id} of the blueprint's fixed questions that the organisation may put in a contest
    (see ``fixed_versions_in_force``). Raises ``BlueprintUnsatisfiable`` naming the unusable ones, or two
    fixed questions of one family."""
    return {qid: family for qid, (_version, family)
            in blueprint_fixed_versions(organisation=organisation, blueprint=blueprint).items()}


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


@dataclass(frozen=True)
class TopicAvailability:
    """A topic of the bank's tree with the reviewed questions an organisation may draw from it (sub-topics
    included), counted as distinct question families, in total and per difficulty."""

    topic_id: int | None  # None: every topic
    path: str
    depth: int
    total: int
    by_difficulty: dict[str, int]

    @property
    def indent(self) -> str:
        """Marks a sub-topic's depth in a <select> (which cannot indent)."""
        return "— " * max(self.depth - 1, 0)


def blueprint_topic_availability(*, organisation: Any) -> list[TopicAvailability]:
    """Every topic (in tree order, sorted by Vietnamese collation within a parent) with its available
    families — what the blueprint form shows beside each topic. One query over the usable questions."""
    topics = {t.pk: t for t in Topic.objects.all()}
    families: dict[int | None, dict[str, set[int]]] = defaultdict(lambda: defaultdict(set))
    rows = questions_available_for(organisation=organisation).values_list("topic_id", "difficulty", "family_id", "id")
    for topic_id, difficulty, family, qid in rows:
        fam = family or qid
        node, seen = topic_id, set()
        families[None][difficulty].add(fam)
        while node is not None and node not in seen:
            seen.add(node)
            families[node][difficulty].add(fam)
            node = topics[node].parent_id if node in topics else None

    def entry(topic_id: int | None, path: str, depth: int) -> TopicAvailability:
        cell = families.get(topic_id, {})
        by = {level: len(cell.get(level, ())) for level in Difficulty.values}
        total = len(set().union(*cell.values())) if cell else 0
        return TopicAvailability(topic_id, path, depth, total, by)

    children: dict[int | None, list] = defaultdict(list)
    for topic in topics.values():
        children[topic.parent_id].append(topic)
    out = [entry(None, _("mọi chủ đề"), 0)]

    def walk(parent: int | None, prefix: str, depth: int) -> None:
        for topic in sorted(children.get(parent, []), key=lambda t: vietnamese_sort_key(t.name)):
            path = f"{prefix} / {topic.name}" if prefix else topic.name
            out.append(entry(topic.pk, path, depth))
            walk(topic.pk, path, depth + 1)

    walk(None, "", 1)
    return out


def _random_cells(*, organisation: Any, blueprint: list[dict]) -> list[tuple[int, dict, set[int]]]:
    """(1-based entry number, draw, families it can pick) of each random draw, fixed questions' families taken
    out first, as the draw does."""
    try:
        fixed = set(blueprint_fixed_questions(organisation=organisation, blueprint=blueprint).values())
    except errors.BlueprintUnsatisfiable:
        fixed = set()
    cells = []
    for index, draw in enumerate(blueprint, start=1):
        if "question_ids" in draw:
            continue
        fams = {family or qid for qid, family in draw_questions_available(organisation=organisation, draw=draw)
                .values_list("id", "family_id")} - fixed
        cells.append((index, draw, fams))
    return cells


def blueprint_overlaps(*, organisation: Any, blueprint: list[dict],
                       cells: list[tuple[int, dict, set[int]]] | None = None) -> list[dict[str, Any]]:
    """Random draws whose candidate questions overlap (a topic and one of its sub-topics, "every topic", the
    same topic twice…). The draw never repeats a family, so overlapping cells share what they can pick: for
    each group of overlapping cells, the families they can pick together against the questions they need
    (a shortfall when fewer). Fixed questions are taken out first, as the draw does.

    Returns ``[{"cells": [1-based entry numbers], "labels": […], "needed": n, "available": m, "short": n − m
    (0 when enough)}]``."""
    cells = cells if cells is not None else _random_cells(organisation=organisation, blueprint=blueprint)
    # Union-find over cells that share at least one family.
    parent = {index: index for index, _, _ in cells}

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a in range(len(cells)):
        for b in range(a + 1, len(cells)):
            if cells[a][2] & cells[b][2]:
                parent[find(cells[a][0])] = find(cells[b][0])
    groups: dict[int, list] = {}
    for cell in cells:
        groups.setdefault(find(cell[0]), []).append(cell)
    result = []
    for members in groups.values():
        if len(members) < 2:
            continue
        union = set().union(*(fams for _, _, fams in members))
        needed = sum(int(d["count"]) for _, d, _ in members)
        result.append({"cells": [i for i, _, _ in members], "labels": [blueprint_cell_label(d) for _, d, _ in members],
                       "needed": needed, "available": len(union), "short": max(0, needed - len(union))})
    return result


def blueprint_draw_competition(*, organisation: Any, blueprint: list[dict],
                               cells: list[tuple[int, dict, set[int]]] | None = None) -> list[dict[str, Any]]:
    """Cells that the draw can leave short even though the bank holds enough for all of them together: the
    draw fills the cells in blueprint order, each picking at random among what the earlier ones left, so an
    earlier, wider cell ("every topic", a parent topic) may take the questions a later, narrower cell needs.

    For each random cell, the earlier cells that compete for its questions and, in the worst case, how many of
    its families they take: at most ``Σ min(count_j, |shared_j|)`` and at most the families they share with it.
    When what is left is fewer than the cell needs, some contestants' draws fail (``BlueprintUnsatisfiable`` at
    the start of their attempt). Drawing that cell before its competitors never takes from it.

    Returns ``[{"cell": k, "label": …, "needed": n, "available": a, "competitors": [j…], "competitor_labels":
    […], "may_take": t, "short": n − (a − t)}]`` for the cells that may run short (none whose own pool is already
    too small: ``blueprint_problems`` reports those)."""
    cells = cells if cells is not None else _random_cells(organisation=organisation, blueprint=blueprint)
    result = []
    for position, (index, draw, fams) in enumerate(cells):
        needed = int(draw["count"])
        if len(fams) < needed:
            continue
        earlier = [(j, d, f & fams) for j, d, f in cells[:position] if f & fams]
        if not earlier:
            continue
        shared = set().union(*(f for _, _, f in earlier))
        may_take = min(sum(min(int(d["count"]), len(f)) for _, d, f in earlier), len(shared))
        short = needed - (len(fams) - may_take)
        if short > 0:
            result.append({"cell": index, "label": blueprint_cell_label(draw), "needed": needed,
                           "available": len(fams), "competitors": [j for j, _, _ in earlier],
                           "competitor_labels": [blueprint_cell_label(d) for _, d, _ in earlier],
                           "may_take": may_take, "short": short})
    return result


def blueprint_overlap_problems(*, organisation: Any, blueprint: list[dict]) -> list[str]:
    """Overlapping cells that cannot all be filled together (each alone may be), and cells that the draw's order
    can leave short (``blueprint_draw_competition``), as Vietnamese messages naming the cells and how many
    questions are short."""
    cells = _random_cells(organisation=organisation, blueprint=blueprint)
    problems = [
        _("Các ô %(cells)s rút chung từ %(available)s câu hỏi đã duyệt nhưng cần tổng cộng %(needed)s câu "
          "(thiếu %(short)s câu): %(labels)s.") % {
            "cells": ", ".join(f"#{i}" for i in group["cells"]), "needed": format_count(group["needed"]),
            "available": format_count(group["available"]), "short": format_count(group["short"]),
            "labels": "; ".join(group["labels"])}
        for group in blueprint_overlaps(organisation=organisation, blueprint=blueprint, cells=cells)
        if group["short"]]
    if problems:
        return problems  # the order cannot help while the bank is short
    return [
        _("Ô #%(cell)s («%(label)s») có thể thiếu %(short)s câu khi rút đề: ô %(competitors)s được rút trước và có "
          "thể lấy tới %(taken)s trong %(available)s câu của ô này. Hãy đặt ô #%(cell)s lên trước ô %(competitors)s "
          "hoặc thêm câu hỏi.") % {
            "cell": item["cell"], "label": item["label"], "short": format_count(item["short"]),
            "competitors": ", ".join(f"#{j}" for j in item["competitors"]), "taken": format_count(item["may_take"]),
            "available": format_count(item["available"])}
        for item in blueprint_draw_competition(organisation=organisation, blueprint=blueprint, cells=cells)]
