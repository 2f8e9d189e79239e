"""The blueprint (cấu trúc đề) and the time limit as organisers edit them: a form instead of raw JSON.

``BlueprintField`` renders one row per blueprint entry — a random draw: topic picked by name from the bank's
tree (with the reviewed questions available beside each, per difficulty), difficulty, number of questions,
points; or fixed questions: their ids — plus blank rows to add more, and reads the rows back into the same
JSON list the model stores (``contests.models.validate_blueprint`` checks it). Below the rows it shows the
checks that exist — shortfalls per cell (``blueprints.blueprint_problems``) and cells that overlap
(``blueprints.blueprint_overlaps``, with how many questions they are short) and cells that the draw's order can
leave short (``blueprints.blueprint_draw_competition``) — on every render, and the admin's "Kiểm tra cấu trúc đề"
button shows them without saving. No JavaScript.

``MinutesField`` shows and takes the time limit in minutes; the model keeps seconds.
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from contests.blueprints import (
    blueprint_draw_competition,
    blueprint_overlaps,
    blueprint_problems,
    blueprint_topic_availability,
)
from contests.models import validate_blueprint
from questionbank.models import Difficulty

BLANK_ROWS = 2
CHECK_BUTTON = "_blueprint_check"


class BlueprintWidget(forms.Widget):
    # In the app's own templates folder: the default form renderer reads app folders, not templates/.
    template_name = "contests/blueprint_widget.html"

    def __init__(self, attrs: dict | None = None) -> None:
        super().__init__(attrs)
        self.organisation: Any = None  # set by the form: availability is per organisation
        self.inherit_label: str | None = None  # rounds: an empty blueprint inherits the contest's
        self.show_problems = True  # off on a posted form: the field's errors say the same

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        rows = []
        try:
            total = min(int(data.get(f"{name}-rows", "0")), 200)
        except ValueError:
            total = 0
        for i in range(total):
            prefix = f"{name}-{i}"
            row = {key: (data.get(f"{prefix}-{key}") or "").strip()
                   for key in ("kind", "topic", "difficulty", "count", "points", "ids")}
            rows.append(row)
        return rows

    def get_context(self, name: str, value: Any, attrs: dict | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        rows = _rows_for_display(value)
        topics = (blueprint_topic_availability(organisation=self.organisation)
                  if self.organisation is not None else [])
        by_id = {str(t.topic_id or ""): t for t in topics}
        for row in rows:
            found = by_id.get(row.get("topic", ""))
            level = row.get("difficulty") or ""
            if row.get("kind") == "random" and found is not None and (row.get("count") or row.get("topic")):
                row["available"] = found.by_difficulty.get(level, 0) if level else found.total
        blueprint = _parse(value, strict=False)
        problems: list[str] = []
        overlaps: list[dict] = []
        competition: list[dict] = []
        if self.organisation is not None and blueprint:
            try:
                validate_blueprint(blueprint)
            except ValidationError:
                pass
            else:
                problems = blueprint_problems(organisation=self.organisation, blueprint=blueprint)
                overlaps = blueprint_overlaps(organisation=self.organisation, blueprint=blueprint)
                if not any(group["short"] for group in overlaps):
                    competition = blueprint_draw_competition(organisation=self.organisation, blueprint=blueprint)
        total = sum(int(e.get("count", 0)) if "question_ids" not in e else len(e["question_ids"])
                    for e in blueprint)
        context["widget"].update({
            "rows": rows, "row_count": len(rows), "topics": topics, "difficulties": Difficulty.choices,
            "problems": problems, "overlaps": overlaps, "competition": competition, "total": total,
            "inherit_label": self.inherit_label,
            "has_organisation": self.organisation is not None, "check_button": CHECK_BUTTON,
            "show_problems": self.show_problems,
        })
        return context


def _rows_for_display(value: Any) -> list[dict[str, Any]]:
    """Rows of the widget from a stored blueprint (list of dicts) or from posted rows (list of row dicts)."""
    rows: list[dict[str, Any]] = []
    if isinstance(value, str):
        try:
            value = json.loads(value) if value.strip() else []
        except ValueError:
            value = []
    for entry in value or []:
        if not isinstance(entry, dict):
            continue
        if "kind" in entry:  # posted back
            if any(entry.get(k) for k in ("topic", "difficulty", "count", "points", "ids")):
                rows.append(dict(entry))
            continue
        if "question_ids" in entry:
            rows.append({"kind": "fixed", "ids": ", ".join(str(i) for i in entry["question_ids"]),
                         "points": _text(entry.get("points"))})
        else:
            rows.append({"kind": "random", "topic": _text(entry.get("topic_id")),
                         "difficulty": entry.get("difficulty") or "", "count": _text(entry.get("count")),
                         "points": _text(entry.get("points"))})
    rows += [{"kind": "random", "topic": "", "difficulty": "", "count": "", "points": ""}
             for _ in range(BLANK_ROWS)]
    for index, row in enumerate(rows):
        row["index"] = index
        row["number"] = index + 1
    return rows


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _parse(value: Any, *, strict: bool) -> list[dict[str, Any]]:
    """Posted rows → blueprint entries. ``strict``: raise ``ValidationError`` naming the row at fault."""
    if not isinstance(value, list):
        return value if isinstance(value, list) else []
    if value and "kind" not in value[0]:
        return value  # already a blueprint (initial data)
    entries: list[dict[str, Any]] = []
    errors: list[str] = []
    for number, row in enumerate(value, start=1):
        if not any(row.get(k) for k in ("topic", "difficulty", "count", "points", "ids")):
            continue  # a blank row
        points = None
        if row.get("points"):
            try:
                points = Decimal(row["points"].replace(",", "."))
                if points < 0:
                    raise InvalidOperation
            except InvalidOperation:
                errors.append(str(_("Dòng %(n)s: điểm phải là một số không âm (ví dụ 1 hoặc 0,5).") % {"n": number}))
                continue
            points = int(points) if points == points.to_integral_value() else float(points)
        if row.get("kind") == "fixed":
            try:
                ids = [int(part) for part in row.get("ids", "").replace(";", ",").split(",") if part.strip()]
            except ValueError:
                errors.append(str(_("Dòng %(n)s: mã câu hỏi cố định phải là các số, cách nhau bằng dấu phẩy.")
                                  % {"n": number}))
                continue
            if not ids:
                errors.append(str(_("Dòng %(n)s: nhập mã các câu hỏi cố định.") % {"n": number}))
                continue
            entries.append({"question_ids": ids, "points": points})
            continue
        try:
            count = int(row.get("count") or "")
        except ValueError:
            errors.append(str(_("Dòng %(n)s: nhập số câu hỏi cần rút (từ 1 đến 200).") % {"n": number}))
            continue
        topic = row.get("topic") or None
        try:
            topic_id = int(topic) if topic else None
        except ValueError:
            errors.append(str(_("Dòng %(n)s: chủ đề không hợp lệ.") % {"n": number}))
            continue
        entries.append({"topic_id": topic_id, "difficulty": row.get("difficulty") or None, "count": count,
                        "points": points})
    if strict and errors:
        raise ValidationError(errors)
    return entries


class BlueprintField(forms.Field):
    """The blueprint as rows (see the module docstring). ``required=False`` for rounds (empty = as the contest)."""

    widget = BlueprintWidget

    def __init__(self, *, required: bool = False, empty_value: Any = None, **kwargs: Any) -> None:
        self.empty_value = empty_value
        super().__init__(required=required, **kwargs)

    def to_python(self, value: Any) -> Any:
        entries = _parse(value, strict=True)
        if not entries:
            return self.empty_value
        validate_blueprint(entries)
        return entries

    def has_changed(self, initial: Any, data: Any) -> bool:
        try:
            return (initial or None) != (self.to_python(data) or None)
        except ValidationError:
            return True


class MinutesField(forms.DecimalField):
    """A duration typed in minutes (``15``, ``7,5``), stored in seconds."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", Decimal("0.5"))
        kwargs.setdefault("max_digits", 7)
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("localize", True)
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            minutes = Decimal(value) / 60
            return minutes.quantize(Decimal(1)) if minutes == minutes.to_integral_value() else minutes.normalize()
        return value

    def clean(self, value: Any) -> Any:
        minutes = super().clean(value)
        return None if minutes is None else int((minutes * 60).to_integral_value())

    def has_changed(self, initial: Any, data: Any) -> bool:
        try:
            return initial != self.clean(data)
        except ValidationError:
            return True
