"""Every label the admin shows people is Vietnamese: model fields, form fields, list columns and read-only
fields of every admin of the project's apps carry an explicit (Vietnamese) label, never the English name
Django derives from the attribute ("Reviewed at", "Created at")."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.admin.utils import label_for_field
from django.forms.utils import pretty_name
from django.test import RequestFactory

from contest_engine.text import slugify_vi

OURS = {"accounts", "questionbank", "contests", "leaderboards", "exports", "judging", "realtime"}
pytestmark = pytest.mark.django_db


def _admins():
    return sorted(((model, model_admin) for model, model_admin in admin.site._registry.items()
                   if model._meta.app_label in OURS), key=lambda pair: pair[0]._meta.label)


def _derived(name: str, label: str) -> bool:
    """A label Django made from the attribute's name (English), not one somebody wrote."""
    return slugify_vi(str(label)) == slugify_vi(pretty_name(name)) and name not in {"email"}


@pytest.mark.parametrize(("model", "model_admin"), _admins(), ids=lambda x: getattr(x, "__name__", ""))
def test_admin_columns_fields_and_forms_are_labelled(model, model_admin, admin_user):
    request = RequestFactory().get("/admin/")
    request.user = admin_user
    names = [n for n in (*model_admin.get_list_display(request), *model_admin.get_readonly_fields(request))
             if isinstance(n, str) and n != "__str__" and n != "action_checkbox"]
    bad = [name for name in names if _derived(name, label_for_field(name, model, model_admin))]
    if model_admin.has_add_permission(request):
        form = model_admin.get_form(request, None)()
        bad += [f"form:{name}" for name, field in form.fields.items()
                if _derived(name, field.label or pretty_name(name))]
    assert bad == []
