"""Factories for contests tests: a bank of approved questions, contests, rounds, registrations."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory
from django.utils import timezone

from contests.models import Contest, ContestVisibility, Registration, Round
from questionbank.models import Question, QuestionOption, QuestionStatus, Visibility
from tests.factories import OrganisationFactory


class QuestionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Question
        skip_postgeneration_save = True

    organisation = factory.SubFactory(OrganisationFactory)
    visibility = Visibility.SHARED
    type = "single"
    stem = factory.Sequence(lambda n: f"<p>Câu hỏi thử số {n}?</p>")
    explanation = "Giải thích theo luật."
    citation_document = "52/2014/QH13"
    citation_article = "8"
    status = QuestionStatus.APPROVED
    is_current = True
    difficulty = "medium"

    @factory.post_generation
    def options(obj, create, extracted, **kwargs):
        if not create:
            return
        if obj.type in {"single", "truefalse"}:
            specs = extracted if extracted is not None else [
                ("Đáp án đúng", "1"), ("Sai 1", "0"), ("Sai 2", "0"), ("Sai 3", "0")]
        elif obj.type == "multiple":
            specs = extracted if extracted is not None else [("Đúng A", "0.5"), ("Đúng B", "0.5"), ("Sai C", "-0.5")]
        elif obj.type == "numeric":
            specs = extracted if extracted is not None else [("42", "1")]
        elif obj.type == "short":
            specs = extracted if extracted is not None else [("Quốc hội", "1")]
        else:
            specs = extracted if extracted is not None else []
        for i, spec in enumerate(specs):
            text, fraction = spec[0], spec[1]
            tolerance = spec[2] if len(spec) > 2 else None
            QuestionOption.objects.create(question=obj, position=i, text=text, fraction=Decimal(fraction),
                                          tolerance=tolerance)


def bank(organisation, n: int = 12, **kwargs) -> list[Question]:
    return [QuestionFactory(organisation=organisation, **kwargs) for _ in range(n)]


class ContestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contest

    organisation = factory.SubFactory(OrganisationFactory)
    title = factory.Sequence(lambda n: f"Cuộc thi tìm hiểu pháp luật {n}")
    slug = factory.Sequence(lambda n: f"cuoc-thi-{n}")
    rules_text = "<p>Thể lệ</p>"
    visibility = ContestVisibility.PUBLISHED
    blueprint = factory.LazyFunction(lambda: [{"topic_id": None, "difficulty": None, "count": 5, "points": None}])
    time_limit_seconds = 900
    max_attempts = 2
    grace_seconds = 5


class RoundFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Round

    contest = factory.SubFactory(ContestFactory)
    name = factory.Sequence(lambda n: f"Tuần {n}")
    opens_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=1))
    closes_at = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(days=6))


def register(user, contest) -> Registration:
    from contests.services.registrations import registration_create

    return registration_create(user=user, contest=contest)


def blueprint_form_data(name: str, blueprint) -> dict[str, str]:
    """POST data of the admin's blueprint rows (contests/blueprint_form.py) for ``blueprint`` (a list or its
    JSON): what an organiser types into the rows."""
    import json

    entries = json.loads(blueprint) if isinstance(blueprint, str) else list(blueprint or [])
    data = {f"{name}-rows": str(len(entries))}
    for i, entry in enumerate(entries):
        prefix = f"{name}-{i}"
        points = "" if entry.get("points") is None else str(entry["points"])
        if "question_ids" in entry:
            data.update({f"{prefix}-kind": "fixed", f"{prefix}-ids": ", ".join(map(str, entry["question_ids"])),
                         f"{prefix}-points": points})
        else:
            data.update({f"{prefix}-kind": "random",
                         f"{prefix}-topic": "" if entry.get("topic_id") is None else str(entry["topic_id"]),
                         f"{prefix}-difficulty": entry.get("difficulty") or "", f"{prefix}-count": str(entry["count"]),
                         f"{prefix}-points": points})
    return data


def settings_form_data(data: dict) -> dict:
    """Rewrite raw admin POST data in the settings' stored shapes (blueprint JSON, time limit in seconds,
    tie-break list) into what the admin form takes (rows, minutes, the order's name)."""
    import json

    out = dict(data)
    for key in [k for k in out if k == "blueprint" or k.endswith("-blueprint")]:
        value = out.pop(key)
        out.update(blueprint_form_data(key, value if value not in (None, "", "null") else []))
    for key in [k for k in out if k == "time_limit_seconds" or k.endswith("-time_limit_seconds")]:
        value = out[key]
        out[key] = "" if value in (None, "") else str(int(value) / 60).removesuffix(".0")
    for key in [k for k in out if k == "tie_break_order" or k.endswith("-tie_break_order")]:
        value = out[key]
        order = json.loads(value) if isinstance(value, str) and value.startswith("[") else value
        out[key] = ("" if not order else "prediction" if list(order)[1] == "prediction" else "duration")
    return out
