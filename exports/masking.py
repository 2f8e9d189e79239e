"""Who sees personal data whole in an export, and how it is masked otherwise."""

from __future__ import annotations

from typing import Any

from accounts.models import Role
from accounts.tenancy import has_role

FULL_DATA_ROLES = (Role.ORGANISER, Role.JUDGE)
VISIBLE_TAIL = 3


def mask_digits(value: str | None, *, keep: int = VISIBLE_TAIL) -> str:
    """All but the last ``keep`` characters replaced by ``*`` (``0912345678`` → ``*******678``)."""
    if not value:
        return ""
    value = str(value)
    if len(value) <= keep:
        return "*" * len(value)
    return "*" * (len(value) - keep) + value[-keep:]


def sees_full_personal_data(*, user: Any, organisation_id: int, published: bool = False) -> bool:
    """Organisers and judges of the owning organisation see phone and ID numbers whole, except in a
    published list (always masked). ``user=None`` is the command line (the operator of the server)."""
    if published:
        return False
    if user is None:
        return True
    return has_role(user, organisation_id, FULL_DATA_ROLES)
