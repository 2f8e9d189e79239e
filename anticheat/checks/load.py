"""Loading the evidence the checks read: a few set-based queries per chunk of attempts."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.db.models import Min
from django.utils.html import strip_tags

from anticheat.checks.inexam import AttemptData, ConnectionData, FirstConnection, QuestionData, reading_seconds
from anticheat.models import AnswerEvent, ClientEvent, ConnectionEvidence
from contests.models import Answer, Attempt, AttemptQuestion, Presentation, Round
from questionbank.models import Question, QuestionOption

CHUNK = 2000


def question_chars(question_ids: Iterable[int]) -> dict[int, int]:
    """Characters a contestant reads for each question: the stem and every option, tags stripped."""
    ids = set(question_ids)
    chars = {pk: len(strip_tags(stem).strip()) for pk, stem in Question.objects.filter(pk__in=ids)
             .values_list("pk", "stem")}
    for question_id, text in QuestionOption.objects.filter(question_id__in=ids).values_list("question_id", "text"):
        chars[question_id] = chars.get(question_id, 0) + len(strip_tags(text).strip())
    return chars


def attempts_data(*, attempt_ids: list[int], settings: dict[str, Any],
                  chars_cache: dict[int, int] | None = None) -> list[AttemptData]:
    chars_cache = {} if chars_cache is None else chars_cache
    out: list[AttemptData] = []
    for start in range(0, len(attempt_ids), CHUNK):
        out.extend(_chunk(attempt_ids[start:start + CHUNK], settings, chars_cache))
    return out


def _chunk(ids: list[int], settings: dict[str, Any], chars_cache: dict[int, int]) -> list[AttemptData]:
    attempts = list(Attempt.objects.filter(pk__in=ids).values_list("pk", "round_id", "started_at", "submitted_at"))
    rounds = {r.pk: r for r in Round.objects.select_related("contest").filter(pk__in={a[1] for a in attempts})}
    questions = list(AttemptQuestion.objects.filter(attempt_id__in=ids).values_list(
        "attempt_id", "position", "question_id", "shown_at"))
    missing = {q[2] for q in questions} - chars_cache.keys()
    if missing:
        chars_cache.update(question_chars(missing))
    first_events = {(a, p): at for a, p, at in AnswerEvent.objects.filter(attempt_id__in=ids, status="stored")
                    .values("attempt_id", "position").annotate(first=Min("at"))
                    .values_list("attempt_id", "position", "first")}
    answers = {(a, p): (at, rev) for a, p, at, rev in Answer.objects.filter(attempt_id__in=ids).values_list(
        "attempt_id", "attempt_question__position", "received_at", "revision")}
    connections: dict[int, list[ConnectionData]] = defaultdict(list)
    for a, at, network, device, replaced, address in ConnectionEvidence.objects.filter(attempt_id__in=ids) \
            .order_by("at", "id").values_list("attempt_id", "at", "network", "device", "replaced", "address"):
        connections[a].append(ConnectionData(at=at, network=network, device=device, replaced=replaced,
                                             address=address or ""))
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    for a, kind, count in ClientEvent.objects.filter(attempt_id__in=ids).values_list("attempt_id", "kind", "count"):
        counts[a][kind] = count
    by_attempt: dict[int, list[QuestionData]] = defaultdict(list)
    for a, position, question_id, shown_at in questions:
        event_at = first_events.get((a, position))
        stored = answers.get((a, position))
        first = min(t for t in (event_at, stored[0] if stored else None) if t is not None) \
            if (event_at or stored) else None
        by_attempt[a].append(QuestionData(
            position=position, reading_seconds=reading_seconds(chars_cache.get(question_id, 0), settings),
            shown_at=shown_at, first_answer_at=first, revisions=stored[1] if stored else 0))
    return [AttemptData(attempt_id=pk, started_at=started, submitted_at=submitted,
                        one_at_a_time=rounds[round_id].settings.presentation == Presentation.ONE_AT_A_TIME,
                        questions=sorted(by_attempt.get(pk, []), key=lambda q: q.position),
                        connections=connections.get(pk, []), client_counts=counts.get(pk, {}))
            for pk, round_id, started, submitted in attempts]


def first_connections(*, round_id: int) -> list[FirstConnection]:
    """The first socket connect of every attempt of the round (where it was started from)."""
    seen: set[int] = set()
    rows: list[FirstConnection] = []
    for attempt_id, user_id, at, network, device in ConnectionEvidence.objects.filter(round_id=round_id) \
            .order_by("attempt_id", "at", "id").values_list("attempt_id", "user_id", "at", "network", "device"):
        if attempt_id in seen:
            continue
        seen.add(attempt_id)
        rows.append(FirstConnection(attempt_id=attempt_id, user_id=user_id, at=at, network=network, device=device))
    return rows
