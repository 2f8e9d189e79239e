"""Question-bank factories: questions are built through the service (so fingerprints, family ids and
sanitising are real), then put in the wanted status directly."""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

from questionbank.importers.base import ParsedOption
from questionbank.models import Question, QuestionStatus, Topic
from questionbank.services.questions import question_create

_counter = itertools.count(1)
_SUBJECTS = ["người đi bộ", "người điều khiển xe đạp", "người lái xe ô tô", "người đi xe máy",
             "học sinh", "chủ phương tiện", "cơ sở kinh doanh rượu bia", "người bán hàng"]
_ACTS = ["sang đường", "dừng xe", "đỗ xe", "vượt xe", "chuyển hướng", "lùi xe", "quay đầu xe", "bấm còi"]


def unique_stem() -> str:
    n = next(_counter)
    # Distinct vocabulary per question so tests do not trip the near-duplicate detector by accident.
    return (f"Câu {n}: theo quy định, {_SUBJECTS[n % 8]} khi {_ACTS[(n // 8) % 8]} ở khu vực số {n} "
            f"cần tuân thủ điều gì (mã {n * 7919})?")


def single_options(correct: int = 0, n: int = 4) -> list[ParsedOption]:
    k = next(_counter)
    return [ParsedOption(text=f"Phương án {chr(65 + i)} số {k}-{i}", fraction=Decimal(1 if i == correct else 0))
            for i in range(n)]


def make_question(organisation: Any, *, status: str = QuestionStatus.APPROVED, author: Any = None,
                  topic: Topic | None = None, **kwargs: Any) -> Question:
    kwargs.setdefault("type", "single")
    kwargs.setdefault("stem", unique_stem())
    if kwargs["type"] in ("single", "multiple", "truefalse") and "options" not in kwargs:
        kwargs["options"] = single_options()
    question = question_create(organisation=organisation, author=None, topic=topic, **kwargs)
    updates: dict[str, Any] = {}
    if author is not None:
        updates["author"] = author
    if status != question.status:
        updates["status"] = status
    if updates:
        Question.objects.filter(pk=question.pk).update(**updates)
        question.refresh_from_db()
    return question
