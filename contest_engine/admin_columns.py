"""Admin columns shared by every app: the object's number under a Vietnamese header (Django's own "ID")."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.utils.translation import gettext_lazy as _


@admin.display(description=_("mã"), ordering="pk")
def code(obj: Any) -> Any:
    return obj.pk


def fields_except_id(model: Any) -> list[str]:
    """Every concrete field of ``model`` but its automatic id (read-only detail pages; the id is in the URL)."""
    return [f.name for f in model._meta.fields if not f.primary_key]
