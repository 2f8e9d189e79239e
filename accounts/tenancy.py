"""Tenant isolation — the one place that decides which organisations' data a staff user may touch.

Every tenant-owned model names the path to its owning organisation in a class attribute
``tenant_path`` (e.g. ``"organisation"`` or ``"round__contest__organisation"``). The admin
(``TenantScopedAdmin``), staff views (``scope_for``/``get_scoped_or_404``) and consumers all go
through the functions here; nothing re-implements the check.

The admin's choice lists are scoped here too, once for every admin: relation list filters
(``TenantScopedRelatedFieldListFilter``, registered for every relation field), foreign-key and many-to-many
choices of change forms and their raw-id labels (``TenantScopedAdmin.formfield_for_*``); autocomplete
endpoints answer from the target model's admin queryset (Django), which is scoped by ``get_queryset``.

Roles are per organisation (accounts.models.Role). Superusers see everything.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib import admin
from django.contrib.admin.widgets import ForeignKeyRawIdWidget
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.http import Http404, HttpRequest

from accounts.models import Membership, Organisation, Role

ALL_ROLES: frozenset[str] = frozenset(Role.values)
_CACHE_ATTR = "_tenant_roles_cache"


def _roles_by_org(user: Any) -> dict[int, frozenset[str]]:
    """{organisation_id: roles} for a staff user; cached on the user object for the request."""
    if not getattr(user, "is_authenticated", False):
        return {}
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is None:
        found: dict[int, set[str]] = {}
        for org_id, role in Membership.objects.filter(user=user, organisation__is_active=True).values_list(
            "organisation_id", "role"
        ):
            found.setdefault(org_id, set()).add(role)
        cached = {org_id: frozenset(roles) for org_id, roles in found.items()}
        setattr(user, _CACHE_ATTR, cached)
    return cached


def organisation_ids_for(user: Any, roles: Iterable[str] | None = None) -> set[int]:
    """Organisations in which ``user`` holds any of ``roles`` (any role when None)."""
    wanted = ALL_ROLES if roles is None else frozenset(roles)
    return {org_id for org_id, held in _roles_by_org(user).items() if held & wanted}


def is_staff_member(user: Any) -> bool:
    return bool(getattr(user, "is_superuser", False)) or bool(_roles_by_org(user))


def has_role(user: Any, organisation_id: int | None, roles: Iterable[str] | None = None) -> bool:
    if getattr(user, "is_superuser", False):
        return True
    if organisation_id is None:
        return False
    return organisation_id in organisation_ids_for(user, roles)


def tenant_path_of(model: type[models.Model]) -> str:
    path = getattr(model, "tenant_path", None)
    if path is None:
        raise TypeError(f"{model.__name__} has no tenant_path; it cannot be tenant-scoped")
    return path


def organisation_id_of(obj: models.Model) -> int | None:
    """Walk ``tenant_path`` on an instance to its owning organisation id."""
    path = tenant_path_of(type(obj))
    if path == "":  # the object is an Organisation
        return obj.pk
    target: Any = obj
    parts = path.split("__")
    for part in parts[:-1]:
        target = getattr(target, part)
        if target is None:
            return None
    return getattr(target, f"{parts[-1]}_id")


def scope_for(queryset: models.QuerySet, user: Any, roles: Iterable[str] | None = None) -> models.QuerySet:
    """Restrict ``queryset`` to objects owned by organisations where ``user`` has one of ``roles``."""
    if getattr(user, "is_superuser", False):
        return queryset
    path = tenant_path_of(queryset.model)
    org_ids = organisation_ids_for(user, roles)
    lookup = "pk__in" if path == "" else f"{path}__in"
    return queryset.filter(**{lookup: org_ids})


def get_scoped_or_404(queryset: models.QuerySet, user: Any, roles: Iterable[str] | None = None,
                      **lookup: Any) -> Any:
    """Fetch one object the user may see; a foreign object is indistinguishable from a missing one."""
    try:
        return scope_for(queryset, user, roles).get(**lookup)
    except queryset.model.DoesNotExist as exc:
        raise Http404 from exc


def require_role(user: Any, organisation_id: int | None, roles: Iterable[str] | None = None) -> None:
    if not has_role(user, organisation_id, roles):
        raise PermissionDenied


class ForeignObjectNotFoundMixin:
    """Admin change/delete/history pages answer 404 for an object outside the user's queryset.

    Django's default is a redirect to the admin index with "object with ID … doesn't exist"; a plain 404
    makes a foreign object indistinguishable from a missing one and is what the isolation tests assert.
    """

    def _get_obj_does_not_exist_redirect(self, request: HttpRequest, opts: Any, object_id: str) -> Any:
        raise Http404


class TenantScopedRelatedFieldListFilter(admin.RelatedFieldListFilter):
    """The choices of a relation list filter (``list_filter = ("contest",)``): only objects that rows the user
    may see point at (Django's RelatedOnlyFieldListFilter rule — the changelist's queryset is scoped), and of a
    tenant-owned model only those of the user's organisations. Django's default offers every row of the related
    table: the registrations list's contest filter showed other organisations' draft contests (issue 19).

    Registered ahead of Django's own filters for every relation field (``register_list_filters``), so every
    admin gets it — a ``list_filter`` entry naming a relation needs nothing more."""

    def field_choices(self, field: Any, request: HttpRequest, model_admin: Any) -> list:
        ordering = self.field_admin_ordering(field, request, model_admin)
        referenced = model_admin.get_queryset(request).distinct().values_list(f"{self.field_path}__pk", flat=True)
        limit = models.Q(pk__in=referenced)
        related = field.related_model
        if (not request.user.is_superuser and related is not Organisation
                and getattr(related, "tenant_path", None) is not None):
            limit &= models.Q(pk__in=scope_for(related._default_manager.all(), request.user).values("pk"))
        return field.get_choices(include_blank=False, limit_choices_to=limit, ordering=ordering)


def register_list_filters() -> None:
    """Make TenantScopedRelatedFieldListFilter the filter of every relation field (AccountsConfig.ready)."""
    if not any(cls is TenantScopedRelatedFieldListFilter for _, cls in admin.FieldListFilter._field_list_filters):
        admin.FieldListFilter.register(lambda f: f.remote_field is not None, TenantScopedRelatedFieldListFilter,
                                       take_priority=True)


class ScopedForeignKeyRawIdWidget(ForeignKeyRawIdWidget):
    """A raw-id input whose label (the object's name beside the id) is shown only for an object among the
    field's scoped choices: Django looks the id up in the whole table, so ``…/add/?attempt=<id>`` named another
    organisation's contestant."""

    def __init__(self, rel: Any, admin_site: Any, attrs: Any = None, using: Any = None, *,
                 queryset: models.QuerySet) -> None:
        super().__init__(rel, admin_site, attrs, using)
        self.queryset = queryset

    def label_and_url_for_value(self, value: Any) -> tuple[str, str]:
        key = self.rel.get_related_field().name
        try:
            if not self.queryset.using(self.db).filter(**{key: value}).exists():
                return "", ""
        except (ValueError, TypeError, ValidationError):
            return "", ""
        return super().label_and_url_for_value(value)


class TenantScopedAdmin(ForeignObjectNotFoundMixin, admin.ModelAdmin):
    """ModelAdmin for tenant-owned models.

    ``tenant_roles`` maps an admin action (view/add/change/delete) to the roles allowed to perform it.
    Querysets, object permissions and foreign-key choices are all scoped, so staff of organisation A get
    a 404 (changelist: nothing) for anything of organisation B, and cannot point a new object at B.
    """

    tenant_roles: dict[str, frozenset[str]] = {
        "view": ALL_ROLES,
        "add": frozenset({Role.ORGANISER}),
        "change": frozenset({Role.ORGANISER}),
        "delete": frozenset({Role.ORGANISER}),
    }

    def _roles(self, action: str) -> frozenset[str]:
        return self.tenant_roles.get(action, frozenset())

    def get_queryset(self, request: HttpRequest) -> models.QuerySet:
        return scope_for(super().get_queryset(request), request.user, self._roles("view"))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser or bool(organisation_ids_for(request.user, self._roles("view")))

    def _has(self, request: HttpRequest, action: str, obj: models.Model | None) -> bool:
        if request.user.is_superuser:
            return True
        org_ids = organisation_ids_for(request.user, self._roles(action))
        if obj is None:
            return bool(org_ids)
        return organisation_id_of(obj) in org_ids

    def has_view_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return self._has(request, "view", obj) or self.has_change_permission(request, obj)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return self._has(request, "add", None)

    def has_change_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return self._has(request, "change", obj)

    def has_delete_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return self._has(request, "delete", obj)

    def scoped_choices(self, db_field: Any, request: HttpRequest) -> models.QuerySet | None:
        """The objects a foreign-key or many-to-many field of this admin's forms may offer ``request.user``
        (None: Django's default). Owner fields offer the user's organisations where they may write; other
        fields to an organisation offer the shared list of units; a tenant-owned model only the user's
        organisations' rows; any other model registered in the admin (people: users) what its admin shows the
        user, and nothing when the user may not view it there."""
        related = db_field.related_model
        if request.user.is_superuser:
            return None
        if related is Organisation:
            if db_field.name in self.owner_fields():
                return Organisation.objects.filter(
                    pk__in=organisation_ids_for(request.user, self._roles("add") | self._roles("change")))
            return None  # units (the official ward list) are shared by every organisation
        if getattr(related, "tenant_path", None) is not None:
            return scope_for(related._default_manager.all(), request.user)
        related_admin = self.admin_site._registry.get(related)
        if related_admin is None:
            return None
        if not related_admin.has_view_permission(request):
            return related._default_manager.none()
        return related_admin.get_queryset(request)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if "queryset" not in kwargs or (db_field.related_model is Organisation
                                        and db_field.name in self.owner_fields()):
            queryset = self.scoped_choices(db_field, request)
            if queryset is not None:
                kwargs["queryset"] = queryset
        if "widget" not in kwargs and db_field.name in self.raw_id_fields:
            kwargs["widget"] = ScopedForeignKeyRawIdWidget(
                db_field.remote_field, self.admin_site, using=kwargs.get("using"),
                queryset=kwargs.get("queryset", db_field.related_model._default_manager.all()))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if "queryset" not in kwargs:
            queryset = self.scoped_choices(db_field, request)
            if queryset is not None:
                kwargs["queryset"] = queryset
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        """A new object of a user who may add in one organisation only belongs to it by default (the form
        saves with its defaults)."""
        initial = super().get_changeform_initial_data(request)
        owners = self.owner_fields()
        if owners and not request.user.is_superuser:
            org_ids = organisation_ids_for(request.user, self._roles("add"))
            if len(org_ids) == 1:
                for name in owners:
                    initial.setdefault(name, next(iter(org_ids)))
        return initial

    def owner_fields(self) -> set[str]:
        """Foreign keys to Organisation that mean 'owner' (restricted to the user's organisations)."""
        path = getattr(self.model, "tenant_path", "")
        return {path} if path and "__" not in path else set()

    def save_model(self, request: HttpRequest, obj: models.Model, form: Any, change: bool) -> None:
        # Defence in depth: the form already limits choices, but never store an object for a foreign org.
        if not request.user.is_superuser and organisation_id_of(obj) not in organisation_ids_for(
            request.user, self._roles("change" if change else "add")
        ):
            raise PermissionDenied
        super().save_model(request, obj, form, change)
