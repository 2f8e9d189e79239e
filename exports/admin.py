"""Admin for export jobs (read-only history, scoped by tenancy)."""

from __future__ import annotations

from django.contrib import admin

from accounts.models import Role
from accounts.tenancy import TenantScopedAdmin
from contest_engine.admin_columns import code, fields_except_id
from contests.models import Contest, Registration
from exports.admin_actions import export_contests_xlsx, export_participants_xlsx, export_questions_xlsx
from exports.models import ContestExport, ExportJob, ParticipantExport, QuestionExport


@admin.register(ExportJob)
class ExportJobAdmin(TenantScopedAdmin):
    tenant_roles = {"view": frozenset({Role.ORGANISER, Role.JUDGE}), "add": frozenset(), "change": frozenset(),
                    "delete": frozenset({Role.ORGANISER})}
    list_display = (code, "kind", "contest", "round", "status", "progress", "total", "requested_by", "created_at")
    list_filter = ("status", "kind")
    readonly_fields = fields_except_id(ExportJob)
    search_fields = ("contest__title",)


class _ExportOnlyAdmin(TenantScopedAdmin):
    """A read-only list whose only action is an xlsx export through a django-import-export resource."""

    tenant_roles = {"view": frozenset({Role.ORGANISER, Role.JUDGE}), "add": frozenset(), "change": frozenset(),
                    "delete": frozenset()}

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions


@admin.register(QuestionExport)
class QuestionExportAdmin(_ExportOnlyAdmin):
    actions = [export_questions_xlsx]
    list_display = (code, "__str__", "type", "status", "version")
    list_filter = ("status", "type")
    search_fields = ("stem",)


@admin.register(ContestExport)
class ContestExportAdmin(_ExportOnlyAdmin):
    actions = [export_contests_xlsx]
    list_display = (code, "title", "visibility", "created_at")


@admin.register(ParticipantExport)
class ParticipantExportAdmin(_ExportOnlyAdmin):
    actions = [export_participants_xlsx]
    list_display = (code, "full_name", "contest", "unit", "created_at")
    list_filter = ("contest",)
    search_fields = ("full_name",)


# The contests' own admin lists offer the same exports. They are added from here, to the registered admins
# (``contests.admin`` is loaded first: INSTALLED_APPS order), because contests may not import exports.
for _model, _action in ((Contest, export_contests_xlsx), (Registration, export_participants_xlsx)):
    _model_admin = admin.site.get_model_admin(_model)
    _model_admin.actions = (*_model_admin.actions, _action)
