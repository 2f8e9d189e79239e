"""Reads of surveys: who may answer, the results (counts and percentages per question and per unit, free
texts), the export rows. Per-unit figures of an anonymous survey group units with fewer than
``SURVEY_MIN_UNIT_GROUP`` (5) responses into "other units", so a small unit does not reveal a person."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import Count
from django.utils.translation import gettext as _

from accounts.models import CitizenProfile
from contests.models import Registration
from surveys.models import (
    CHOICE_KINDS,
    SCALE_VALUES,
    QuestionKind,
    Survey,
    SurveyAnswer,
    SurveyAudience,
    SurveyResponse,
)


def min_unit_group() -> int:
    return int(getattr(settings, "SURVEY_MIN_UNIT_GROUP", 5))


def audience_contest_unit_id(*, survey: Survey, user: Any) -> int | None:
    if survey.audience != SurveyAudience.CONTEST:
        return None
    return (Registration.objects.filter(contest_id=survey.audience_contest_id, user_id=user.pk)
            .values_list("unit_id", flat=True).first())


def audience_includes(*, survey: Survey, user: Any) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    if survey.audience == SurveyAudience.UNIT:
        return Survey.objects.filter(pk=survey.pk, audience_unit__citizens__user_id=user.pk).exists()
    if survey.audience == SurveyAudience.CONTEST:
        return Registration.objects.filter(contest_id=survey.audience_contest_id, user_id=user.pk).exists()
    return True


def has_responded(*, survey: Survey, user: Any) -> bool:
    """Only knowable for surveys that are not anonymous (an anonymous response names nobody)."""
    return (not survey.anonymous and getattr(user, "is_authenticated", False)
            and SurveyResponse.objects.filter(survey=survey, user_id=user.pk).exists())


def surveys_open_for(*, user: Any, now: dt.datetime) -> list[Survey]:
    """Published surveys open now whose audience includes ``user``."""
    candidates = (Survey.objects.filter(status="published", opens_at__lte=now, closes_at__gt=now)
                  .select_related("organisation").order_by("closes_at", "id"))
    unit_id = CitizenProfile.objects.filter(user_id=user.pk).values_list("unit_id", flat=True).first()
    contest_ids = set(Registration.objects.filter(user_id=user.pk).values_list("contest_id", flat=True))
    found = []
    for survey in candidates:
        if survey.audience == SurveyAudience.UNIT and survey.audience_unit_id != unit_id:
            continue
        if survey.audience == SurveyAudience.CONTEST and survey.audience_contest_id not in contest_ids:
            continue
        found.append(survey)
    return found


def responded_ids(*, user: Any, surveys: list[Survey]) -> set[int]:
    return set(SurveyResponse.objects.filter(user_id=user.pk, survey__in=surveys).values_list("survey_id", flat=True))


# --- Results ---------------------------------------------------------------------------------------------------


@dataclass
class OptionCount:
    label: str
    count: int
    share: float  # of the respondents who answered the question


@dataclass
class QuestionResult:
    question: Any
    answered: int  # respondents who answered this question
    options: list[OptionCount] = field(default_factory=list)
    mean: float | None = None  # scale questions
    texts: list[str] = field(default_factory=list)  # free text and "other" answers, newest first
    by_unit: list[tuple[str, int, list[OptionCount]]] = field(default_factory=list)


def _share(count: int, total: int) -> float:
    return count / total if total else 0.0


def _unit_labels(survey: Survey) -> dict[int | None, str]:
    """Unit id → the label results use: its name, or "other units" for small groups of an anonymous survey."""
    sizes = dict(SurveyResponse.objects.filter(survey=survey).values_list("unit_id").annotate(n=Count("pk")))
    names = dict(SurveyResponse.objects.filter(survey=survey, unit__isnull=False)
                 .values_list("unit_id", "unit__name").distinct())
    other = _("Các đơn vị khác (dưới %(n)s phiếu)") % {"n": min_unit_group()}
    labels: dict[int | None, str] = {}
    for unit_id, size in sizes.items():
        if unit_id is None:
            labels[unit_id] = _("Không rõ đơn vị")
        elif survey.anonymous and size < min_unit_group():
            labels[unit_id] = other
        else:
            labels[unit_id] = names.get(unit_id, "")
    return labels


def survey_results(*, survey: Survey, text_limit: int = 200) -> dict[str, Any]:
    """Per question: respondents who answered, counts and shares per option (and "other") or per scale value,
    the mean of a scale, free texts; the same per unit. A few queries whatever the number of responses."""
    total = SurveyResponse.objects.filter(survey=survey).count()
    labels = _unit_labels(survey)
    answers = SurveyAnswer.objects.filter(response__survey=survey)
    answered = dict(answers.values_list("question_id").annotate(n=Count("response_id", distinct=True)))
    per_choice = Counter({(q, c): n for q, c, n in answers.filter(choice__isnull=False)
                          .values_list("question_id", "choice_id").annotate(n=Count("id"))})
    per_number = Counter({(q, v): n for q, v, n in answers.filter(number__isnull=False)
                          .values_list("question_id", "number").annotate(n=Count("id"))})
    other = Counter(dict(answers.filter(choice__isnull=True, number__isnull=True).exclude(text="")
                         .values_list("question_id").annotate(n=Count("id"))))
    # Per unit (label): respondents per question, counts per choice / value / other — grouped in SQL. A
    # respondent answers a question in one unit, so the distinct counts of units folded into one label add up.
    unit_answered: Counter = Counter()
    for question_id, unit_id, n in answers.values_list("question_id", "response__unit_id").annotate(
            n=Count("response_id", distinct=True)):
        unit_answered[(question_id, labels.get(unit_id, ""))] += n
    unit_counts: Counter = Counter()
    for question_id, unit_id, choice_id, number, n in answers.values_list(
            "question_id", "response__unit_id", "choice_id", "number").annotate(n=Count("id")):
        key = ("c", choice_id) if choice_id is not None else ("n", number) if number is not None else ("o", None)
        unit_counts[(question_id, labels.get(unit_id, ""), key)] += n
    results = []
    unit_names = sorted(set(labels.values()))
    for question in survey.questions.prefetch_related("choices").order_by("position", "id"):
        n = answered.get(question.pk, 0)
        result = QuestionResult(question=question, answered=n)
        keys: list[tuple[str, Any, str]] = []
        if question.kind in CHOICE_KINDS:
            keys = [("c", c.pk, c.text) for c in question.choices.all()]
            if question.allow_other:
                keys.append(("o", None, _("Khác")))
        elif question.kind == QuestionKind.SCALE:
            keys = [("n", v, str(v)) for v in SCALE_VALUES]
        for kind, value, label in keys:
            count = (per_choice[(question.pk, value)] if kind == "c" else per_number[(question.pk, value)]
                     if kind == "n" else other[question.pk])
            result.options.append(OptionCount(label=label, count=count, share=_share(count, n)))
        if question.kind == QuestionKind.SCALE and n:
            result.mean = sum(v * per_number[(question.pk, v)] for v in SCALE_VALUES) / max(
                1, sum(per_number[(question.pk, v)] for v in SCALE_VALUES))
        if question.kind == QuestionKind.TEXT or question.allow_other:
            result.texts = list(answers.filter(question=question, choice__isnull=True, number__isnull=True)
                                .exclude(text="").order_by("-response__submitted_on", "id")
                                .values_list("text", flat=True)[:text_limit])
        if keys:
            for unit_label in unit_names:
                unit_n = unit_answered[(question.pk, unit_label)]
                if not unit_n:
                    continue
                result.by_unit.append((unit_label, unit_n, [
                    OptionCount(label=label, count=unit_counts[(question.pk, unit_label, (kind, value))],
                                share=_share(unit_counts[(question.pk, unit_label, (kind, value))], unit_n))
                    for kind, value, label in keys]))
        results.append(result)
    sizes: Counter = Counter()
    for unit_id, n in SurveyResponse.objects.filter(survey=survey).values_list("unit_id").annotate(n=Count("pk")):
        sizes[labels.get(unit_id, "")] += n
    return {"total": total, "questions": results,
            "units": sorted(((label, n, _share(n, total)) for label, n in sizes.items()), key=lambda r: (-r[1], r[0]))}


def survey_response_rows(*, survey: Survey, batch: int = 2000) -> Iterator[tuple[Any, ...]]:
    """One tuple per response for the export: short code, unit (grouped like the results), day, then one cell
    per question (chosen options joined by "; ", "Khác: …", the scale value, the free text). Keyset batches."""
    questions = list(survey.questions.order_by("position", "id"))
    labels = _unit_labels(survey)
    last = None
    while True:
        page = SurveyResponse.objects.filter(survey=survey).order_by("pk")
        if last is not None:
            page = page.filter(pk__gt=last)
        chunk = list(page.values_list("pk", "unit_id", "submitted_on")[:batch])
        if not chunk:
            return
        cells: dict[Any, dict[int, list[str]]] = defaultdict(lambda: defaultdict(list))
        numbers: dict[Any, dict[int, int]] = defaultdict(dict)
        for response_id, question_id, choice, number, text in (
                SurveyAnswer.objects.filter(response_id__in=[r[0] for r in chunk])
                .order_by("response_id", "question_id", "choice__position", "id")
                .values_list("response_id", "question_id", "choice__text", "number", "text")):
            if choice is not None:
                cells[response_id][question_id].append(choice)
            elif number is not None:
                numbers[response_id][question_id] = number
            elif text:
                kind = next((q.kind for q in questions if q.pk == question_id), None)
                cells[response_id][question_id].append(text if kind == QuestionKind.TEXT
                                                       else _("Khác: %(t)s") % {"t": text})
        for response_id, unit_id, day in chunk:
            values: list[Any] = [str(response_id)[:8], labels.get(unit_id, ""), day]
            for q in questions:
                if q.kind == QuestionKind.SCALE:
                    values.append(numbers[response_id].get(q.pk))
                else:
                    values.append("; ".join(cells[response_id].get(q.pk, [])))
            yield tuple(values)
        last = chunk[-1][0]

