"""Admin for live games: a read-only history (games are created and driven from their own pages, where every
rule is checked by the services), scoped by tenancy."""

from __future__ import annotations

from django.contrib import admin

from accounts.models import Role
from accounts.tenancy import TenantScopedAdmin
from live.models import LivePlayer, LiveSession

HOSTS = frozenset({Role.ORGANISER, Role.JUDGE})


class _ReadOnly(TenantScopedAdmin):
    tenant_roles = {"view": HOSTS, "add": frozenset(), "change": frozenset(), "delete": frozenset()}

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]


@admin.register(LiveSession)
class LiveSessionAdmin(_ReadOnly):
    list_display = ("id", "title", "pin", "mode", "scoring", "join_policy", "phase", "position", "question_count",
                    "organisation", "created_at")
    list_filter = ("phase", "mode", "join_policy")
    search_fields = ("title", "pin")


@admin.register(LivePlayer)
class LivePlayerAdmin(_ReadOnly):
    list_display = ("id", "display_name", "session", "rank", "score", "correct_count", "status", "joined_at")
    list_filter = ("status",)
    search_fields = ("display_name", "session__title")
