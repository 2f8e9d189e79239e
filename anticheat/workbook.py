"""The "Cảnh báo" sheet of the results workbook, added through ``exports.workbook.register_workbook_sheet``
(exports is below anticheat and never imports it). Values go through the same formula-safe writer as the
other sheets; when the viewer may not see personal data whole, network evidence is masked
("113.161.*.*"), as phone and ID numbers are on the ranking sheet."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from anticheat import selectors
from anticheat.models import Severity
from exports.workbook import ExtraSheet
from exports.writers import INT, LOCAL_DATETIME, NUMBER, TEXT, Column

SHEET_FLAGS = "Cảnh báo"
_SEVERITY = dict(Severity.choices)


def mask_network(value: str) -> str:
    """Keep the first half of an address or network ("113.161.42.0/24" → "113.161.*.*")."""
    if not value:
        return ""
    address = value.split("/")[0]
    if ":" in address:
        parts = address.split(":")
        return ":".join(parts[:2]) + ":*"
    parts = address.split(".")
    return ".".join([*parts[:2], "*", "*"]) if len(parts) == 4 else "*"


def _evidence_text(evidence: dict[str, Any], *, full_personal_data: bool) -> str:
    shown = dict(evidence)
    if not full_personal_data and shown.get("network"):
        shown["network"] = mask_network(str(shown["network"]))
    return json.dumps(shown, ensure_ascii=False, separators=(", ", ": "))[:2000]


def columns(*, full_personal_data: bool) -> list[Column]:
    return [
        Column("Đợt thi", TEXT, 18),
        Column("Mã lượt thi", INT, 11),
        Column("Họ và tên", TEXT, 26),
        Column("Đơn vị", TEXT, 28),
        Column("Loại cảnh báo", TEXT, 34),
        Column("Mức độ", TEXT, 12),
        Column("Điểm nghi vấn", NUMBER, 10),
        Column("Bằng chứng" if full_personal_data else "Bằng chứng (đã che địa chỉ mạng)", TEXT, 60),
        Column("Nhóm", TEXT, 20),
        Column("Kết quả xem xét", TEXT, 18),
        Column("Lý do quyết định", TEXT, 40),
        Column("Phát hiện lúc (giờ Việt Nam)", LOCAL_DATETIME, 20),
    ]


def rows(*, target: Any, full_personal_data: bool) -> Iterator[tuple]:
    names = {r.pk: r.name for r in target.rounds}
    for item in selectors.export_rows(round_ids=target.round_ids):
        flag = item["flag"]
        group = flag.group_key
        if not full_personal_data and group.startswith(("network:", "signup:")):
            prefix, _, value = group.partition(":")
            group = f"{prefix}:{mask_network(value)}"
        yield (names.get(flag.round_id, ""), flag.attempt_id, flag.attempt.registration.full_name,
               flag.unit.name if flag.unit else "", flag.get_kind_display(), str(_SEVERITY.get(flag.severity)),
               round(flag.score, 3), _evidence_text(flag.evidence, full_personal_data=full_personal_data), group,
               str(item["review_status"]), item["review_reason"], flag.created_at)


SHEET = ExtraSheet(name=SHEET_FLAGS, columns=columns, rows=rows)
