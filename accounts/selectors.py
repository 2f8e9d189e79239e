"""Read-side queries about citizen accounts."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import AuditEvent, CitizenProfile, Organisation, OrganisationKind, User
from contest_engine.text import vietnamese_sort_key


def unit_queryset(*, include_id: int | None = None) -> QuerySet[Organisation]:
    """Organisations a citizen may choose as their unit (đơn vị dự thi), plus ``include_id`` (the unit a
    citizen already has, even if it has since been closed, so an unchanged profile still validates)."""
    return Organisation.objects.filter(Q(is_unit=True, is_active=True) | Q(pk=include_id)).order_by("kind", "name")


def unit_choices(*, include_id: int | None = None,
                 queryset: QuerySet[Organisation] | None = None) -> list[tuple[str, list[tuple[int, str]]]]:
    """Units grouped by kind for a <select> with <optgroup>s, groups in the order of OrganisationKind, names in
    Vietnamese alphabetical order (``contest_engine.text.vietnamese_sort_key``: "Phường An Bình" … "Phường Ô
    Môn" … "Phường Phước Thới", not the database's binary order that puts every accented capital last).
    ``queryset`` (e.g. a contest's allowed units) replaces the default list of selectable units."""
    groups: dict[str, list[tuple[int, str]]] = {}
    rows = (queryset if queryset is not None else unit_queryset(include_id=include_id)).values_list("pk", "name",
                                                                                                   "kind")
    for pk, name, kind in rows:
        groups.setdefault(kind, []).append((pk, name))
    labels = dict(OrganisationKind.choices)
    ordered = [kind for kind in OrganisationKind.values if kind in groups]
    return [(str(labels[kind]), sorted(groups[kind], key=lambda unit: vietnamese_sort_key(unit[1])))
            for kind in ordered]


def phone_taken(*, phone: str, exclude_user_id: int | None = None) -> bool:
    return User.objects.filter(phone=phone).exclude(pk=exclude_user_id).exists()


def email_taken(*, email: str, exclude_user_id: int | None = None) -> bool:
    return User.objects.filter(email__iexact=email).exclude(pk=exclude_user_id).exists()


def active_user_by_phone(*, phone: str) -> User | None:
    """The active account with this (normalised) phone number, if any."""
    return User.objects.filter(phone=phone, is_active=True).first() if phone else None


def active_user_by_email(*, email: str) -> User | None:
    """The active account with this e-mail address (case-insensitive), if any."""
    return User.objects.filter(email__iexact=email, is_active=True).order_by("pk").first() if email else None


def _actor_kind(event: AuditEvent, user: User) -> str:
    if event.actor_id is None:
        return "system"
    if event.actor_id == user.pk:
        return "self"
    return "staff"


def personal_data_core(*, user: User) -> dict[str, Any]:
    """The accounts app's part of the personal data download (JSON-able after DjangoJSONEncoder)."""
    profile = CitizenProfile.objects.select_related("unit").filter(user=user).first()
    events = AuditEvent.objects.filter(target_type=user._meta.label_lower, target_id=str(user.pk)).order_by("at")
    return {
        "format": "contest-engine/personal-data",
        "format_version": 1,
        "generated_at": timezone.now(),
        "account": {
            "id": user.pk,
            "full_name": user.full_name,
            "phone": user.phone,
            "email": user.email,
            "date_joined": user.date_joined,
            "last_login": user.last_login,
            "is_active": user.is_active,
        },
        "profile": None if profile is None else {
            "date_of_birth": profile.date_of_birth,
            "unit": None if profile.unit is None else {"id": profile.unit_id, "name": profile.unit.name},
            "national_id": profile.national_id,
            "guardian_name": profile.guardian_name,
            "guardian_phone": profile.guardian_phone,
            "created_at": profile.created_at,
            "updated_at": profile.updated_at,
        },
        "consents": None if profile is None else {
            "privacy_notice_version": profile.privacy_notice_version,
            "privacy_consent_at": profile.privacy_consent_at,
            "guardian_consent_at": profile.guardian_consent_at,
        },
        "staff_roles": [
            {"organisation": m.organisation.name, "role": m.role, "since": m.created_at}
            for m in user.memberships.select_related("organisation").order_by("created_at")
        ],
        # The processing log about this person; who acted is reduced to self / staff / system.
        "processing_log": [
            {"at": e.at, "action": e.action, "by": _actor_kind(e, user), "reason": e.reason}
            for e in events
        ],
    }
