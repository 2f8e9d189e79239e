"""Reusable acceptance checks for tenant isolation in the admin.

Every app that registers a tenant-owned model in the admin proves isolation with one call::

    from tests.tenancy_harness import assert_admin_closed, assert_admin_isolated, assert_admin_read_only

    def test_contest_admin_is_isolated(client, organiser_a, org_b):
        contest = ContestFactory(organisation=org_b)
        assert_admin_isolated(client, contest, foreign_user=organiser_a)

The admin URLs are derived from the object's model (``admin:<app>_<model>_changelist`` …). Before
checking the foreign user, the harness proves the URLs are right by opening them as a superuser (200),
so a typo or an unregistered model fails loudly instead of passing as "404 — isolated".
``assert_admin_read_only`` covers what a user may see but not change (own organisation, shared questions);
``assert_admin_closed`` covers non-staff accounts (citizens).
"""

from __future__ import annotations

import itertools
from typing import Any

from django.contrib.admin import helpers
from django.contrib.auth import get_user_model
from django.db import models
from django.test import Client
from django.urls import reverse

DENIED = {403, 404}
_counter = itertools.count()


def admin_urls(obj: models.Model) -> dict[str, str]:
    opts = obj._meta
    prefix = f"admin:{opts.app_label}_{opts.model_name}"
    return {
        "changelist": reverse(f"{prefix}_changelist"),
        "change": reverse(f"{prefix}_change", args=[obj.pk]),
        "delete": reverse(f"{prefix}_delete", args=[obj.pk]),
        "history": reverse(f"{prefix}_history", args=[obj.pk]),
    }


def _superuser() -> Any:
    n = next(_counter)
    return get_user_model().objects.create_superuser(
        username=f"harness-root-{n}", password="harness-pass-1", email=f"harness-root-{n}@example.invalid",
    )


def _assert_urls_work(client: Client, obj: models.Model, urls: dict[str, str]) -> None:
    client.force_login(_superuser())
    try:
        for name in ("changelist", "change", "history"):
            response = client.get(urls[name])
            assert response.status_code == 200, (
                f"positive control failed: a superuser got {response.status_code} for {name} {urls[name]} — "
                f"is {type(obj).__name__} registered in the admin?"
            )
    finally:
        client.logout()


def _changelist_pks(response: Any) -> set[Any] | None:
    context = getattr(response, "context", None)
    if not context or "cl" not in context:
        return None
    return set(context["cl"].queryset.values_list("pk", flat=True))


def assert_admin_isolated(client: Client, obj: models.Model, *, foreign_user: Any,
                          check_positive: bool = True) -> None:
    """``foreign_user`` (staff of another organisation) can neither see nor touch ``obj`` in the admin.

    - changelist: 403, or 200 without ``obj`` (also when searching for it by primary key);
    - change page (GET and POST), delete page (GET and confirmed POST), history page: 403 or 404;
    - the ``delete_selected`` action POSTed with ``obj``'s id deletes nothing;
    - afterwards ``obj`` still exists, unchanged in the database.
    """
    model = type(obj)
    urls = admin_urls(obj)
    before = model._default_manager.filter(pk=obj.pk).values().first()
    assert before is not None, "the object under test must be saved"
    if check_positive:
        _assert_urls_work(client, obj, urls)

    client.force_login(foreign_user)
    try:
        response = client.get(urls["changelist"])
        assert response.status_code in DENIED | {200}, f"changelist answered {response.status_code}"
        if response.status_code == 200:
            pks = _changelist_pks(response)
            assert pks is not None, "changelist rendered without a ChangeList in its context"
            assert obj.pk not in pks, f"{model.__name__} {obj.pk} is listed for a foreign user"

        for name in ("change", "delete", "history"):
            response = client.get(urls[name])
            assert response.status_code in DENIED, f"{name} page answered {response.status_code} for a foreign user"

        response = client.post(urls["change"], {"_save": "1"})
        assert response.status_code in DENIED, f"POST to the change page answered {response.status_code}"
        response = client.post(urls["delete"], {"post": "yes"})
        assert response.status_code in DENIED, f"confirmed delete answered {response.status_code}"

        response = client.post(urls["changelist"], {
            "action": "delete_selected",
            helpers.ACTION_CHECKBOX_NAME: [str(obj.pk)],
            "post": "yes",
            "index": "0",
        })
        assert response.status_code in DENIED | {200, 302}, f"bulk action answered {response.status_code}"
    finally:
        client.logout()

    after = model._default_manager.filter(pk=obj.pk).values().first()
    assert after is not None, f"{model.__name__} {obj.pk} was deleted by a foreign user"
    assert after == before, f"{model.__name__} {obj.pk} was changed by a foreign user"


def assert_admin_read_only(client: Client, obj: models.Model, *, user: Any) -> None:
    """``user`` may see ``obj`` in the admin (listed, change page opens read-only) but not change or delete
    it — e.g. staff and their own organisation, or a question shared city-wide by another organisation."""
    model = type(obj)
    urls = admin_urls(obj)
    before = model._default_manager.filter(pk=obj.pk).values().first()
    client.force_login(user)
    try:
        response = client.get(urls["changelist"])
        assert response.status_code == 200, f"changelist answered {response.status_code}"
        assert obj.pk in (_changelist_pks(response) or set()), f"{model.__name__} {obj.pk} is not listed"
        response = client.get(urls["change"])
        assert response.status_code == 200, f"change page answered {response.status_code}"
        assert response.context["has_change_permission"] is False, "the change page is editable"
        response = client.post(urls["change"], {"_save": "1"})
        assert response.status_code == 403, f"POST to the change page answered {response.status_code}"
        assert client.get(urls["delete"]).status_code == 403
        assert client.post(urls["delete"], {"post": "yes"}).status_code == 403
        client.post(urls["changelist"], {"action": "delete_selected",
                                         helpers.ACTION_CHECKBOX_NAME: [str(obj.pk)], "post": "yes"})
    finally:
        client.logout()
    assert model._default_manager.filter(pk=obj.pk).values().first() == before, "the object was changed"


def assert_admin_closed(client: Client, obj: models.Model, *, user: Any) -> None:
    """A non-staff account (e.g. a citizen) is sent to the admin login for every admin URL of ``obj``,
    and the delete action does nothing."""
    urls = admin_urls(obj)
    login = reverse("admin:login")
    client.force_login(user)
    try:
        for name, url in urls.items():
            response = client.get(url)
            assert response.status_code == 302, f"{name} answered {response.status_code} for a non-staff user"
            assert response["Location"].startswith(login), f"{name} redirected to {response['Location']}"
        response = client.post(urls["changelist"], {
            "action": "delete_selected", helpers.ACTION_CHECKBOX_NAME: [str(obj.pk)], "post": "yes",
        })
        assert response.status_code == 302
        assert response["Location"].startswith(login)
    finally:
        client.logout()
    assert type(obj)._default_manager.filter(pk=obj.pk).exists()


def assert_pages_isolated(client: Client, *, get: list[str], post: list[tuple[str, dict]], own_user: Any,
                          foreign_user: Any, unchanged: list[models.Model] | None = None) -> None:
    """Staff pages (not the admin) of one organisation's object: ``own_user`` opens every ``get`` URL (200,
    the positive control), ``foreign_user`` (staff of another organisation) gets 404 for every ``get`` and
    every ``post`` — the same as for a missing object — and the ``unchanged`` objects are as they were."""
    before = [type(o)._default_manager.filter(pk=o.pk).values().first() for o in unchanged or []]
    client.force_login(own_user)
    try:
        for url in get:
            response = client.get(url)
            assert response.status_code == 200, f"positive control failed: {url} answered {response.status_code}"
    finally:
        client.logout()
    client.force_login(foreign_user)
    try:
        for url in get:
            assert client.get(url).status_code == 404, f"{url} is visible to another organisation"
        for url, data in post:
            assert client.post(url, data).status_code == 404, f"POST {url} reached another organisation's data"
    finally:
        client.logout()
    after = [type(o)._default_manager.filter(pk=o.pk).values().first() for o in unchanged or []]
    assert after == before, "another organisation's POST changed something"


# --- Choice lists: list filters, form choices, raw-id labels, autocomplete endpoints (issue 19) ---------------


def _concrete(model: type[models.Model]) -> type[models.Model]:
    return model._meta.concrete_model


def owned_by(org: Any) -> dict[type[models.Model], set[Any]]:
    """Everything organisation ``org`` owns, by concrete model: the rows of every tenant-owned model under
    ``org`` (of the question bank only its private questions: shared ones are read city-wide by design),
    ``org`` itself, and its people — its staff and the citizens registered in its contests."""
    from django.apps import apps

    from accounts.models import Membership
    from contests.models import Registration
    from questionbank.models import Visibility

    owned: dict[type[models.Model], set[Any]] = {}
    for model in apps.get_models():
        path = getattr(model, "tenant_path", None)
        if path is None or model._meta.proxy:
            continue
        queryset = model._default_manager.filter(**{"pk" if path == "" else path: org.pk})
        if model._meta.label == "questionbank.Question":
            queryset = queryset.exclude(visibility=Visibility.SHARED)
        elif path == "question__organisation" and (
                model._meta.get_field("question").related_model._meta.label == "questionbank.Question"):
            queryset = queryset.exclude(question__visibility=Visibility.SHARED)
        owned[model] = set(queryset.values_list("pk", flat=True))
    people = set(Membership.objects.filter(organisation=org).values_list("user_id", flat=True))
    people |= set(Registration.objects.filter(contest__organisation=org).values_list("user_id", flat=True))
    owned[_concrete(get_user_model())] = people
    return owned


def _foreign_of(model: type[models.Model], pks: set[Any], foreign: dict[type[models.Model], set[Any]]) -> set[Any]:
    return set(pks) & foreign.get(_concrete(model), set())


def _unwrap(widget: Any) -> Any:
    return getattr(widget, "widget", widget) if type(widget).__name__ == "RelatedFieldWidgetWrapper" else widget


def _form_choice_leaks(form: Any, *, owner_fields: set[str], foreign: dict, where: str) -> tuple[list[str], list[str]]:
    """(what ``form`` offers of ``foreign``, the tenant-relevant choice fields looked at)."""
    from django import forms

    from accounts.models import Organisation

    leaks, checked = [], []
    for name, field in form.fields.items():
        if not isinstance(field, forms.ModelChoiceField | forms.ModelMultipleChoiceField):
            continue
        if name == form._meta.model._meta.pk.name and isinstance(field.widget, forms.HiddenInput):
            continue  # an inline row's own hidden id: the formset looks it up among the parent's rows only
        related = _concrete(field.queryset.model)
        if related is Organisation and name not in owner_fields:
            continue  # units (the official ward list) are shared by every organisation
        if related not in foreign:
            continue  # global models (topics, tags, groups)
        checked.append(f"{where}: {name}")
        offered = _foreign_of(related, set(field.queryset.values_list("pk", flat=True)), foreign)
        if offered:
            leaks.append(f"{where}: the choices of {name!r} offer {related.__name__} {sorted(offered)}")
        widget = _unwrap(field.widget)
        if hasattr(widget, "label_and_url_for_value"):  # raw-id input: the name shown beside a typed id
            for pk in sorted(foreign.get(related, set())):
                label, _url = widget.label_and_url_for_value(pk)
                if label:
                    leaks.append(f"{where}: the raw-id field {name!r} names {related.__name__} {pk} ({label!r})")
    return leaks, checked


def admin_choice_leaks(client: Client, model_admin: Any, *, user: Any, foreign: dict,
                       own: models.Model | None = None) -> tuple[list[str], list[str]]:
    """What ``user`` is offered of ``foreign`` (``owned_by`` another organisation) by one registered admin:

    - the changelist's list filters on relations (e.g. the registrations list's contest filter);
    - the add form and ``own``'s change form (with their inlines): foreign-key and many-to-many choices and
      the labels of raw-id inputs for a typed id;
    - the raw-id lookup popups (the related changelist opened with ``_popup``).

    Returns (leaks, what was looked at: ``filter <label>.<path>``, ``raw-id …``, form fields). A superuser's
    changelist is opened first as the positive control: a relation filter counts as looked at only when it
    lists a foreign object for them (so a filter that cannot show one is not taken for an isolated one)."""
    from django.contrib.admin.filters import RelatedFieldListFilter

    model = model_admin.model
    opts = model._meta
    prefix = f"admin:{opts.app_label}_{opts.model_name}"
    leaks: list[str] = []
    checked: list[str] = []
    filter_params: dict[str, bool] = {}

    client.force_login(_superuser())
    try:
        response = client.get(reverse(f"{prefix}_changelist"))
        assert response.status_code == 200, f"positive control: {prefix} changelist answered {response.status_code}"
        for spec in response.context["cl"].filter_specs:
            if isinstance(spec, RelatedFieldListFilter):
                listed = {pk for pk, _label in spec.lookup_choices}
                filter_params[spec.field_path] = bool(_foreign_of(spec.field.related_model, listed, foreign))
    finally:
        client.logout()

    client.force_login(user)
    try:
        response = client.get(reverse(f"{prefix}_changelist"))
        if response.status_code == 200:
            # A filter a superuser sees B's objects in is exercised: the user's copy, unless scoped, would list
            # them too (a filter with one choice or none is not shown at all, so offers nothing).
            checked += [f"filter {opts.label}.{path}" for path, exercised in filter_params.items() if exercised]
            for spec in response.context["cl"].filter_specs:
                if not isinstance(spec, RelatedFieldListFilter):
                    continue
                listed = {pk for pk, _label in spec.lookup_choices}
                offered = _foreign_of(spec.field.related_model, listed, foreign)
                if offered:
                    leaks.append(f"{prefix} changelist: the filter {spec.field_path!r} lists "
                                 f"{spec.field.related_model.__name__} {sorted(offered)}")
            for name in model_admin.raw_id_fields:
                field = opts.get_field(name)
                remote = field.related_model
                remote_admin = model_admin.admin_site._registry.get(remote)
                if remote_admin is None:
                    continue
                popup = reverse(f"admin:{remote._meta.app_label}_{remote._meta.model_name}_changelist")
                popup_response = client.get(popup, {"_popup": "1", "_to_field": field.target_field.name})
                if popup_response.status_code == 200:
                    pks = _changelist_pks(popup_response) or set()
                    if _foreign_of(remote, pks, foreign):
                        leaks.append(f"{prefix}: the raw-id lookup for {name!r} lists foreign {remote.__name__}")
                checked.append(f"raw-id popup {opts.label}.{name}")

        owner_fields = model_admin.owner_fields() if hasattr(model_admin, "owner_fields") else set()
        pages = [("add", reverse(f"{prefix}_add"))]
        if own is not None:
            pages.append(("change", reverse(f"{prefix}_change", args=[own.pk])))
        for kind, url in pages:
            response = client.get(url)
            if response.status_code != 200 or "adminform" not in (response.context or {}):
                continue
            found, n = _form_choice_leaks(response.context["adminform"].form, owner_fields=owner_fields,
                                          foreign=foreign, where=f"{prefix} {kind} form")
            leaks += found
            checked += n
            for inline in response.context.get("inline_admin_formsets", []):
                for form in [*inline.formset.forms, inline.formset.empty_form]:
                    found, n = _form_choice_leaks(form, owner_fields=set(), foreign=foreign,
                                                  where=f"{prefix} {kind} form, inline {inline.opts.model.__name__}")
                    leaks += found
                    checked += n
    finally:
        client.logout()
    return leaks, checked


def autocomplete_endpoints() -> list[tuple[type[models.Model], Any, Any]]:
    """Every (source model, relation field, target admin) Django's autocomplete view answers for: any forward
    foreign key or many-to-many of any model whose target is registered in the admin with search fields."""
    from django.apps import apps
    from django.contrib import admin

    endpoints = []
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if not (field.is_relation and field.concrete and (field.many_to_one or field.many_to_many
                                                                or field.one_to_one)):
                continue
            target_admin = admin.site._registry.get(field.related_model)
            if target_admin is None or not target_admin.search_fields:
                continue
            endpoints.append((model, field, target_admin))
    return endpoints


def autocomplete_ids(client: Client, model: type[models.Model], field: Any) -> tuple[int, set[str]]:
    """(status, ids) of every page of ``/admin/autocomplete/`` for ``model.field`` with an empty search term."""
    ids: set[str] = set()
    page = 1
    while True:
        response = client.get(reverse("admin:autocomplete"), {
            "app_label": model._meta.app_label, "model_name": model._meta.model_name, "field_name": field.name,
            "term": "", "page": str(page)})
        if response.status_code != 200:
            return response.status_code, ids
        data = response.json()
        ids |= {str(row["id"]) for row in data["results"]}
        if not data["pagination"]["more"]:
            return 200, ids
        page += 1


def autocomplete_leaks(client: Client, *, user: Any, foreign: dict) -> tuple[list[str], int]:
    """What ``user`` gets of ``foreign`` from every autocomplete endpoint (``autocomplete_endpoints``).
    Positive control: an endpoint counts as checked when a superuser gets a foreign object from it."""
    leaks: list[str] = []
    checked = 0
    root = _superuser()
    answered: dict[tuple, tuple[str, int]] = {}
    for model, field, _target_admin in autocomplete_endpoints():
        remote = field.related_model
        to_field = field.target_field.attname
        # The answer depends only on the target admin, the field's limit_choices_to and its to-field (Django's
        # AutocompleteJsonView): endpoints that share those share one answer.
        key = (remote, to_field, repr(field.get_limit_choices_to()))
        if key in answered:
            leak, ok = answered[key]
            if leak:
                leaks.append(f"autocomplete {model._meta.label}.{field.name}: as {leak}")
            checked += ok
            continue
        wanted = {str(v) for v in remote._default_manager.filter(
            pk__in=foreign.get(_concrete(remote), set())).values_list(to_field, flat=True)}
        if not wanted:
            continue
        client.force_login(root)
        _status, seen_by_root = autocomplete_ids(client, model, field)
        client.force_login(user)
        status, seen = autocomplete_ids(client, model, field)
        client.logout()
        leak = ""
        if status == 200 and seen & wanted:
            leak = f"{model._meta.label}.{field.name}, lists {remote.__name__} {sorted(seen & wanted)}"
            leaks.append(f"autocomplete {leak}")
        ok = int(bool(seen_by_root & wanted))
        checked += ok
        answered[key] = (leak, ok)
    return leaks, checked
