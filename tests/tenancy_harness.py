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
