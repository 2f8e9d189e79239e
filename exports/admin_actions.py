"""Admin actions that export the selected rows through a django-import-export resource into a formula-safe
xlsx (``exports.writers``). Usable from any ModelAdmin without ``ImportExportMixin``:

    from exports.admin_actions import export_questions_xlsx
    class QuestionAdmin(...):
        actions = [..., export_questions_xlsx]

Each export is audited (``exports.admin_exported``: model, row count, personal field names).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.services import audit_record
from accounts.tenancy import organisation_id_of
from exports.masking import sees_full_personal_data
from exports.resources import ContestResource, ParticipantResource, QuestionResource
from exports.writers import DATETIME, TEXT, Column, XlsxExport, cell_kind_of, to_vietnam_naive

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def dataset_to_xlsx(*, headers: list[str], rows: list[list[Any]], sheet_name: str) -> bytes:
    """Write a resource's rows with cell types taken from the values (text always as text)."""
    buffer = io.BytesIO()
    book = XlsxExport(buffer)
    sheet = book.add_sheet(sheet_name, [Column(h, TEXT, max(10, min(40, len(h) + 4))) for h in headers])
    for row in rows:
        for col, value in enumerate(row):
            if value is None or value == "":
                continue
            kind = cell_kind_of(value)
            if kind == DATETIME and value.tzinfo is None:
                # import-export renders datetimes in local (Vietnam) time without a zone.
                value = timezone.make_aware(value)
            sheet.write_cell(sheet.row, col, value, kind)
        sheet.row += 1
        sheet.data_rows += 1
    sheet.finish()
    book.close()
    return buffer.getvalue()


def _export(request: HttpRequest, queryset: Any, resource: Any, *, name: str, personal: tuple[str, ...] = (),
            full: bool = True) -> HttpResponse | None:
    if not queryset.exists():  # ids outside the user's scope were posted: nothing to export
        messages.warning(request, _("Không có dòng nào để xuất."))
        return None
    dataset = resource.export(queryset, force_native_type=True)
    body = dataset_to_xlsx(headers=list(dataset.headers), rows=[list(r) for r in dataset], sheet_name=name)
    organisation_ids = sorted({organisation_id_of(obj) for obj in queryset[:1000]} - {None})
    audit_record(actor=request.user, action="exports.admin_exported",
                 organisation=organisation_ids[0] if len(organisation_ids) == 1 else None,
                 data={"model": queryset.model._meta.label_lower, "rows": len(dataset),
                       "personal_fields": list(personal), "full_personal_data": full,
                       "organisation_ids": organisation_ids})
    stamp = to_vietnam_naive(timezone.now()).strftime("%Y%m%d-%H%M")
    response = HttpResponse(body, content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{queryset.model._meta.model_name}-{stamp}.xlsx"'
    response["Cache-Control"] = "private, no-store"
    return response


@admin.action(description="Xuất câu hỏi đã chọn ra Excel")
def export_questions_xlsx(modeladmin: Any, request: HttpRequest, queryset: Any) -> HttpResponse | None:
    queryset = queryset.select_related("topic", "organisation").prefetch_related("options").order_by("pk")
    return _export(request, queryset, QuestionResource(), name="Câu hỏi")


@admin.action(description="Xuất cuộc thi đã chọn ra Excel")
def export_contests_xlsx(modeladmin: Any, request: HttpRequest, queryset: Any) -> HttpResponse | None:
    return _export(request, ContestResource.annotate(queryset).order_by("pk"), ContestResource(), name="Cuộc thi")


@admin.action(description="Xuất danh sách thí sinh đã chọn ra Excel")
def export_participants_xlsx(modeladmin: Any, request: HttpRequest, queryset: Any) -> HttpResponse | None:
    """Phone and ID numbers whole only when the user is an organiser or judge of every contest's organisation."""
    queryset = queryset.select_related("contest", "unit", "user").order_by("pk")
    org_ids = set(queryset.values_list("contest__organisation_id", flat=True).distinct())
    full = all(sees_full_personal_data(user=request.user, organisation_id=org) for org in org_ids)
    return _export(request, queryset, ParticipantResource(full_personal_data=full), name="Thí sinh",
                   personal=ParticipantResource.PERSONAL_FIELDS, full=full)


ACTIONS: dict[str, Callable[..., HttpResponse | None]] = {
    "questions": export_questions_xlsx, "contests": export_contests_xlsx, "participants": export_participants_xlsx,
}
