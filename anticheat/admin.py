"""Admin for anticheat: a round's thresholds and retention (organisers), read-only flags and decisions."""

from __future__ import annotations

from django.contrib import admin

from accounts.models import Role
from accounts.tenancy import TenantScopedAdmin
from anticheat.models import Flag, ReviewDecision, RoundCheckSettings

READ_ONLY = {"view": frozenset({Role.ORGANISER, Role.JUDGE}), "add": frozenset(), "change": frozenset(),
             "delete": frozenset()}


@admin.register(RoundCheckSettings)
class RoundCheckSettingsAdmin(TenantScopedAdmin):
    tenant_roles = {"view": frozenset({Role.ORGANISER, Role.JUDGE}), "add": frozenset({Role.ORGANISER}),
                    "change": frozenset({Role.ORGANISER}), "delete": frozenset({Role.ORGANISER})}
    list_display = ("round", "evidence_retention_days", "analysed_at")
    readonly_fields = ("evaluated_until", "analysed_at", "purged_at")


@admin.register(Flag)
class FlagAdmin(TenantScopedAdmin):
    tenant_roles = READ_ONLY
    list_display = ("attempt", "round", "kind", "severity", "score", "updated_at")
    list_filter = ("kind", "severity")


@admin.register(ReviewDecision)
class ReviewDecisionAdmin(TenantScopedAdmin):
    tenant_roles = READ_ONLY
    list_display = ("attempt", "round", "action", "from_status", "to_status", "actor", "at")
    list_filter = ("action",)
