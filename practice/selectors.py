"""Reads of practice: which questions may be practised (the leak rule), progress, the organisers' figures.

The leak rule (docs/practice.md): a question is never offered, nor its key shown, while an open or future
contest round could put it in front of a contestant — any round whose (extended) close is still ahead and
that is not officially closed, of any organisation and any contest (published or draft), because every
contest may draw the shared bank. A round "could draw" a question when it is one of its blueprint's fixed
questions, when a random cell of its blueprint matches it (topic with sub-topics × difficulty — exactly the
cells ``contests.blueprints.blueprint_candidates`` draws from), or when an attempt of that round in progress
drew a version of its family (the blueprint may have changed since). The rule works on families, so another
version of a reserved question is reserved too.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.core.cache import cache
from django.db.models import BigIntegerField, Count, Q, QuerySet
from django.db.models.functions import Coalesce, TruncDate

from accounts.models import Role
from accounts.tenancy import organisation_ids_for
from contests.blueprints import blueprint_cell_label
from contests.errors import BlueprintUnsatisfiable
from contests.models import AttemptQuestion, AttemptStatus, Round
from practice.models import PracticeItem, PracticeSession
from questionbank.models import Question, QuestionStatus, QuestionType, Topic, Visibility
from questionbank.selectors import topic_descendant_ids

RESERVATION_CACHE_KEY = "practice:reservation:v1"
RESERVATION_CACHE_SECONDS = 60
PRACTICE_TYPES = (QuestionType.SINGLE, QuestionType.MULTIPLE, QuestionType.TRUE_FALSE, QuestionType.NUMERIC,
                  QuestionType.SHORT_TEXT)  # essays need a judge: no instant feedback
VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
INSIGHT_ROLES = frozenset({Role.ORGANISER})


# --- The leak rule ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reservation:
    """What open and future rounds may draw: random cells and families (fixed or already drawn)."""

    cells: tuple[tuple[frozenset[int] | None, str | None], ...]  # (topic ids with descendants | any, difficulty)
    families: frozenset[int]

    @property
    def everything(self) -> bool:
        return any(topics is None and difficulty is None for topics, difficulty in self.cells)

    def covers(self, *, topic_id: int | None, difficulty: str, family_id: int) -> bool:
        if family_id in self.families:
            return True
        for topics, level in self.cells:
            if (topics is None or topic_id in topics) and (level is None or level == difficulty):
                return True
        return False

    def exclude_from(self, questions: QuerySet[Question]) -> QuerySet[Question]:
        if self.everything:
            return questions.none()
        if self.families:
            families = list(self.families)
            questions = questions.exclude(Q(family_id__in=families) | Q(family_id__isnull=True, pk__in=families))
        for topics, level in self.cells:
            condition = Q()
            if topics is not None:
                condition &= Q(topic_id__in=list(topics))
            if level is not None:
                condition &= Q(difficulty=level)
            questions = questions.exclude(condition)
        return questions


def open_or_future_rounds(now: dt.datetime) -> QuerySet[Round]:
    """Rounds that are open or still to come: not officially closed, their (extended) close ahead."""
    return (Round.objects.filter(closed_at__isnull=True)
            .filter(Q(closes_at__gt=now) | Q(extended_until__gt=now)).select_related("contest"))


def reservation_build(*, now: dt.datetime) -> Reservation:
    """The reservation computed from the database (no cache)."""
    rounds = list(open_or_future_rounds(now))
    cells: set[tuple[frozenset[int] | None, str | None]] = set()
    fixed_ids: set[int] = set()
    descendants: dict[int, frozenset[int]] = {}
    for round in rounds:
        for draw in round.settings.blueprint or []:
            if "question_ids" in draw:
                fixed_ids.update(int(q) for q in draw["question_ids"])
                continue
            topic_id = draw.get("topic_id")
            topics: frozenset[int] | None = None
            if topic_id is not None:
                if topic_id not in descendants:
                    descendants[topic_id] = frozenset(topic_descendant_ids([topic_id]))
                topics = descendants[topic_id]
            cells.add((topics, draw.get("difficulty") or None))
    families: set[int] = set()
    if fixed_ids:
        families.update(fam for fam, in Question.objects.filter(pk__in=fixed_ids).annotate(
            fam=Coalesce("family_id", "id", output_field=BigIntegerField())).values_list("fam"))
    if rounds:
        # Attempts in progress may hold questions of an earlier blueprint (an organiser changed it during the
        # round): their contestants must not find the keys in practice. New attempts draw from the cells above.
        drawn = (AttemptQuestion.objects.filter(attempt__round__in=[r.pk for r in rounds],
                                                attempt__status=AttemptStatus.IN_PROGRESS)
                 .annotate(fam=Coalesce("question__family_id", "question_id", output_field=BigIntegerField()))
                 .values_list("fam", flat=True).distinct())
        families.update(drawn)
    return Reservation(cells=tuple(sorted(cells, key=repr)), families=frozenset(families))


def reservation_current(*, now: dt.datetime) -> Reservation:
    """The reservation, cached for a minute and dropped whenever a round, contest or topic changes
    (practice.receivers), so a round created now reserves its questions for the very next request."""
    found = cache.get(RESERVATION_CACHE_KEY)
    if found is None:
        found = reservation_build(now=now)
        cache.set(RESERVATION_CACHE_KEY, found, RESERVATION_CACHE_SECONDS)
    return found


def reservation_forget() -> None:
    cache.delete(RESERVATION_CACHE_KEY)


def practice_pool(*, now: dt.datetime) -> QuerySet[Question]:
    """Questions a citizen may practise now: approved, current, shared city-wide, auto-graded, not reserved."""
    questions = Question.objects.filter(status=QuestionStatus.APPROVED, is_current=True,
                                        visibility=Visibility.SHARED, type__in=PRACTICE_TYPES,
                                        organisation__is_active=True)
    return reservation_current(now=now).exclude_from(questions)


def is_practicable(*, question: Question, now: dt.datetime, reservation: Reservation | None = None) -> bool:
    """Whether one question may still be practised (its key shown) at ``now``."""
    if not (question.status == QuestionStatus.APPROVED and question.is_current
            and question.visibility == Visibility.SHARED and question.type in PRACTICE_TYPES):
        return False
    reservation = reservation or reservation_current(now=now)
    return not reservation.covers(topic_id=question.topic_id, difficulty=question.difficulty,
                                  family_id=question.family_id or question.pk)


# --- What a citizen can choose ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TopicChoice:
    topic: Topic
    available: int


def practice_topics(*, now: dt.datetime) -> list[TopicChoice]:
    """Root topics of the bank with how many questions of their subtree may be practised now."""
    pool_counts = dict(practice_pool(now=now).values_list("topic_id").annotate(n=Count("id")))
    roots = list(Topic.objects.filter(parent__isnull=True).order_by("name"))
    parents = dict(Topic.objects.values_list("id", "parent_id"))
    totals: dict[int, int] = defaultdict(int)
    for topic_id, count in pool_counts.items():
        node, seen = topic_id, set()
        while node is not None and node not in seen:
            seen.add(node)
            if parents.get(node) is None:
                totals[node] += count
            node = parents.get(node)
    return [TopicChoice(topic=t, available=totals.get(t.pk, 0)) for t in roots]


def practice_documents(*, now: dt.datetime, limit: int = 50) -> list[tuple[str, int]]:
    """Legal documents (citation) with practicable questions, most questions first."""
    rows = (practice_pool(now=now).exclude(citation_document="").values_list("citation_document")
            .annotate(n=Count("id")).order_by("-n", "citation_document")[:limit])
    return [(doc, n) for doc, n in rows]


def wrong_families(*, user: Any) -> set[int]:
    """Families whose latest practice answer by ``user`` was wrong ("the questions I got wrong")."""
    latest: dict[int, bool] = {}
    for family, correct in (PracticeItem.objects.filter(user_id=user.pk, answered_at__isnull=False)
                            .order_by("answered_at", "id").values_list("family_id", "is_correct")):
        latest[family] = bool(correct)
    return {family for family, correct in latest.items() if not correct}


def wrong_pool(*, user: Any, now: dt.datetime) -> QuerySet[Question]:
    families = list(wrong_families(user=user))
    return practice_pool(now=now).filter(Q(family_id__in=families) | Q(family_id__isnull=True, pk__in=families))


def mock_rounds(*, now: dt.datetime, limit: int = 5) -> list[Round]:
    """Closed rounds of published contests whose blueprint a mock exam can follow, newest first."""
    closed = (Round.objects.filter(contest__visibility="published")
              .filter(Q(closed_at__isnull=False) | (Q(closes_at__lte=now) & (Q(extended_until__isnull=True)
                                                                            | Q(extended_until__lte=now))))
              .select_related("contest").order_by("-closes_at", "-id")[:limit * 4])
    found = []
    for round in closed:
        blueprint = mock_blueprint(round=round)
        if blueprint and not mock_blueprint_problems(blueprint=blueprint, now=now):
            found.append(round)
        if len(found) >= limit:
            break
    return found


def mock_blueprint(*, round: Round) -> list[dict]:
    """The blueprint a mock exam of ``round`` draws by: its random cells as they are, each fixed question turned
    into a one-question cell of its topic and difficulty (the fixed questions themselves are contest material).
    Equal cells are merged."""
    cells: dict[tuple[Any, Any, Any], int] = {}
    fixed: list[int] = []
    for draw in round.settings.blueprint or []:
        if "question_ids" in draw:
            fixed.extend(int(q) for q in draw["question_ids"])
            points = draw.get("points")
            for topic_id, difficulty in Question.objects.filter(pk__in=draw["question_ids"]).values_list(
                    "topic_id", "difficulty"):
                key = (topic_id, difficulty, points)
                cells[key] = cells.get(key, 0) + 1
            continue
        key = (draw.get("topic_id"), draw.get("difficulty") or None, draw.get("points"))
        cells[key] = cells.get(key, 0) + int(draw["count"])
    return [{"topic_id": t, "difficulty": d, "count": n, "points": p} for (t, d, p), n in cells.items()]


def _mock_cell(*, draw: dict, now: dt.datetime) -> QuerySet[Question]:
    questions = practice_pool(now=now)
    if draw.get("topic_id") is not None:
        questions = questions.filter(topic_id__in=topic_descendant_ids([draw["topic_id"]]))
    if draw.get("difficulty"):
        questions = questions.filter(difficulty=draw["difficulty"])
    return questions


def mock_candidates(*, draw: dict, now: dt.datetime) -> list[tuple[int, int]]:
    """(question id, family id) of the practice pool that a mock exam's cell may pick."""
    return [(qid, fam or qid) for qid, fam in _mock_cell(draw=draw, now=now).values_list("id", "family_id")]


def mock_blueprint_problems(*, blueprint: list[dict], now: dt.datetime) -> list[str]:
    """Cells the practice pool cannot fill now, in the words the contests use for a round's blueprint."""
    problems = []
    for draw in blueprint:
        available = _mock_cell(draw=draw, now=now).aggregate(
            n=Count(Coalesce("family_id", "id", output_field=BigIntegerField()), distinct=True))["n"]
        if available < int(draw["count"]):
            problems.append(BlueprintUnsatisfiable.for_cell(
                cell=blueprint_cell_label(draw), needed=int(draw["count"]), available=available).message)
    return problems


# --- Progress ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TopicProgress:
    name: str
    answered: int
    correct: int

    @property
    def rate(self) -> float:
        return self.correct / self.answered if self.answered else 0.0


@dataclass(frozen=True)
class Progress:
    answered: int
    correct: int
    streak_days: int
    practised_today: bool
    topics: list[TopicProgress]
    wrong_to_review: int

    @property
    def rate(self) -> float:
        return self.correct / self.answered if self.answered else 0.0


def progress_for(*, user: Any, now: dt.datetime) -> Progress:
    """Answered, correct rate per root topic, and the streak: consecutive days (Vietnam time) with at least
    one answer, ending today or yesterday (practising today keeps yesterday's streak alive)."""
    answered = PracticeItem.objects.filter(user_id=user.pk, answered_at__isnull=False)
    by_topic = list(answered.values_list("topic_id").annotate(n=Count("id"), ok=Count("id", filter=Q(is_correct=True))))
    names = dict(Topic.objects.filter(parent__isnull=True).values_list("id", "name"))
    roots = _roots(t for t, _, _ in by_topic)
    totals: dict[int | None, list[int]] = defaultdict(lambda: [0, 0])
    for topic_id, n, ok in by_topic:
        root = roots[topic_id]
        totals[root][0] += n
        totals[root][1] += ok
    topics = sorted((TopicProgress(name=names.get(root, "") if root else "", answered=n, correct=ok)
                     for root, (n, ok) in totals.items()), key=lambda t: (-t.answered, t.name))
    days = list(answered.annotate(day=TruncDate("answered_at", tzinfo=VN_TZ)).values_list("day", flat=True)
                .distinct().order_by("-day")[:400])
    today = now.astimezone(VN_TZ).date()
    streak = 0
    if days and days[0] >= today - dt.timedelta(days=1):
        expected = days[0]
        for day in days:
            if day != expected:
                break
            streak += 1
            expected = day - dt.timedelta(days=1)
    total = sum(t.answered for t in topics)
    correct = sum(t.correct for t in topics)
    return Progress(answered=total, correct=correct, streak_days=streak,
                    practised_today=bool(days and days[0] == today), topics=topics,
                    wrong_to_review=len(wrong_families(user=user)))


def recent_sessions(*, user: Any, limit: int = 10) -> list[PracticeSession]:
    return list(PracticeSession.objects.filter(user_id=user.pk).select_related("topic", "source_round__contest")
                .annotate(answered=Count("items", filter=Q(items__answered_at__isnull=False)),
                          right_count=Count("items", filter=Q(items__is_correct=True)))
                .order_by("-started_at", "-id")[:limit])


# --- Organisers: what citizens get wrong --------------------------------------------------------------------


def insight_scope(*, user: Any) -> QuerySet[PracticeItem]:
    """Answers an organiser may count: on their organisations' questions (any unit — organisers plan the
    communication about their own questions) and of citizens of their own units (any question). Aggregates
    only: no person is ever listed. Superusers see everything."""
    answered = PracticeItem.objects.filter(answered_at__isnull=False)
    if getattr(user, "is_superuser", False):
        return answered
    orgs = list(organisation_ids_for(user, INSIGHT_ROLES))
    return answered.filter(Q(question__organisation_id__in=orgs) | Q(unit_id__in=orgs))


@dataclass(frozen=True)
class MissedRow:
    label: str
    answered: int
    wrong: int
    key: Any = None

    @property
    def wrong_rate(self) -> float:
        return self.wrong / self.answered if self.answered else 0.0


def insights(*, user: Any, unit_id: int | None = None, since: dt.datetime | None = None,
             min_answers: int = 1, limit: int = 20) -> dict[str, Any]:
    """Most-missed root topics and questions, and the figures per unit, within ``insight_scope``."""
    scope = insight_scope(user=user)
    if since is not None:
        scope = scope.filter(answered_at__gte=since)
    units = sorted(((unit, name, n, wrong) for unit, name, n, wrong in scope.values_list("unit_id", "unit__name")
                    .annotate(n=Count("id"), wrong=Count("id", filter=Q(is_correct=False)))),
                   key=lambda r: (-(r[3] / r[2] if r[2] else 0), -r[2], r[1] or ""))
    if unit_id is not None:
        scope = scope.filter(unit_id=unit_id)
    names = dict(Topic.objects.values_list("id", "name"))
    rows = list(scope.values_list("topic_id").annotate(n=Count("id"), wrong=Count("id", filter=Q(is_correct=False))))
    roots = _roots(t for t, _, _ in rows)
    per_root: dict[int | None, list[int]] = defaultdict(lambda: [0, 0])
    for topic_id, n, wrong in rows:
        root = roots[topic_id]
        per_root[root][0] += n
        per_root[root][1] += wrong
    topics = [MissedRow(label=names.get(root, "") if root else "", answered=n, wrong=w, key=root)
              for root, (n, w) in per_root.items() if n >= min_answers]
    topics.sort(key=lambda r: (-r.wrong_rate, -r.answered, r.label))
    question_rows = (scope.values_list("family_id")
                     .annotate(n=Count("id"), wrong=Count("id", filter=Q(is_correct=False))).filter(n__gte=min_answers))
    by_family = sorted(((fam, n, w) for fam, n, w in question_rows), key=lambda r: (-(r[2] / r[1]), -r[1], r[0]))
    by_family = [r for r in by_family if r[2] > 0][:limit]
    current = {(q.family_id or q.pk): q for q in Question.objects.filter(
        Q(family_id__in=[f for f, _, _ in by_family]) | Q(pk__in=[f for f, _, _ in by_family]), is_current=True)}
    questions = [MissedRow(label=str(current[fam]) if fam in current else f"#{fam}", answered=n, wrong=w,
                           key=current.get(fam))
                 for fam, n, w in by_family]
    return {
        "topics": topics[:limit],
        "questions": questions,
        "units": [MissedRow(label=name or "—", answered=n, wrong=w, key=unit) for unit, name, n, w in units],
    }


def insight_units(*, user: Any) -> list[tuple[int, str]]:
    """Units that appear in the organiser's scope (for the unit filter)."""
    return sorted({(unit, name) for unit, name in insight_scope(user=user).exclude(unit__isnull=True)
                   .values_list("unit_id", "unit__name").distinct()}, key=lambda r: r[1])


def _roots(topic_ids: Iterable[int | None]) -> dict[int | None, int | None]:
    """Each topic's root in the (small) topic tree."""
    parents = dict(Topic.objects.values_list("id", "parent_id"))
    result = {}
    for topic_id in topic_ids:
        root, seen = topic_id, set()
        while root is not None and parents.get(root) is not None and root not in seen:
            seen.add(root)
            root = parents[root]
        result[topic_id] = root
    return result
