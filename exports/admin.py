"""Admin for export jobs (read-only history, scoped by tenancy)."""

from __future__ import annotations

from django.contrib import admin

from accounts.models import Role
from accounts.tenancy import TenantScopedAdmin
from exports.models import ExportJob


@admin.register(ExportJob)
class ExportJobAdmin(TenantScopedAdmin):
    tenant_roles = {"view": frozenset({Role.ORGANISER, Role.JUDGE}), "add": frozenset(), "change": frozenset(),
                    "delete": frozenset({Role.ORGANISER})}
    list_display = ("id", "kind", "contest", "round", "status", "progress", "total", "requested_by", "created_at")
    list_filter = ("status", "kind")
    readonly_fields = [f.name for f in ExportJob._meta.fields]
    search_fields = ("contest__title",)
