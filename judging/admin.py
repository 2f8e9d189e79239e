"""Admin for judging: essay grading settings per round (organisers), read-only decision and grade logs."""

from __future__ import annotations

from django.contrib import admin

from accounts.models import Role
from accounts.tenancy import TenantScopedAdmin
from judging.models import EssayAssignment, EssayGradingSettings, RankingDecision

READ_ONLY = {"view": frozenset({Role.ORGANISER, Role.JUDGE}), "add": frozenset(), "change": frozenset(),
             "delete": frozenset()}


@admin.register(EssayGradingSettings)
class EssayGradingSettingsAdmin(TenantScopedAdmin):
    list_display = ("round", "threshold")


@admin.register(RankingDecision)
class RankingDecisionAdmin(TenantScopedAdmin):
    tenant_roles = READ_ONLY
    list_display = ("ranking", "action", "from_status", "to_status", "actor", "at")
    list_filter = ("action",)


@admin.register(EssayAssignment)
class EssayAssignmentAdmin(TenantScopedAdmin):
    """Organisers see codes, status and final marks — not who wrote which essay (no attempt/answer columns)."""

    tenant_roles = {"view": frozenset({Role.ORGANISER}), "add": frozenset(), "change": frozenset(),
                    "delete": frozenset()}
    list_display = ("code", "round", "status", "final_mark", "final_rule", "finalised_at")
    list_filter = ("status",)
    fields = ("code", "round", "status", "max_points", "final_mark", "final_rule", "finalised_at")
    readonly_fields = fields
