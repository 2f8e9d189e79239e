"""load_demo: every app's demo loader, idempotent, with printed credentials that work."""

from __future__ import annotations

from io import StringIO

import pytest
from django.apps import apps
from django.contrib.auth import authenticate
from django.core.management import call_command

from accounts.models import Membership, Organisation, Role, User
from contest_engine.demo import demo_loader, demo_loaders

pytestmark = pytest.mark.django_db


def row_counts() -> dict[str, int]:
    return {model._meta.label: model._default_manager.count() for model in apps.get_models()
            if model._meta.managed and not model._meta.proxy}


def load() -> str:
    out = StringIO()
    call_command("load_demo", stdout=out)
    return out.getvalue()


def test_running_twice_yields_the_same_rows():
    load()
    first = row_counts()
    assert first["accounts.Organisation"] == 1 + 103 + 8
    load()
    assert row_counts() == first


def test_demo_staff_and_credentials():
    output = load()
    justice = Organisation.objects.get(slug="can-tho-so-tu-phap")
    roles = set(Membership.objects.filter(organisation=justice).values_list("role", flat=True))
    assert roles == set(Role.values)
    ward_organiser = Membership.objects.get(user__username="btc.ninhkieu")
    assert ward_organiser.organisation.name == "Phường Ninh Kiều"
    assert ward_organiser.role == Role.ORGANISER
    assert User.objects.get(username="admin").is_superuser
    assert User.objects.filter(is_superuser=True).count() == 1
    citizen = User.objects.get(phone="0912345678")
    assert not citizen.is_staff
    assert citizen.profile.unit == ward_organiser.organisation
    assert citizen.profile.privacy_consent_at is not None
    printed = [("admin", "admin-demo-2026"), ("0901000001", "canbo-demo-2026"), ("0901000005", "canbo-demo-2026"),
               ("0912345678", "thisinh-demo-2026")]
    for login, password in printed:
        assert login in output
        assert password in output
        assert authenticate(username=login, password=password) is not None, login
    # staff can also log in with their e-mail address
    assert authenticate(username="giamkhao.stp@example.vn", password="canbo-demo-2026") is not None


def test_loaders_are_discovered_and_run_in_order(monkeypatch):
    from contest_engine import demo

    calls = []
    demo_loaders()  # import every app's demo module first, so their loaders are in the copy restored below
    monkeypatch.setattr(demo, "_loaders", dict(demo._loaders))
    demo_loader(order=99, name="zz-test")(lambda stdout: calls.append("late"))
    demo_loader(order=5, name="aa-test")(lambda stdout: calls.append("early"))
    names = [loader.name for loader in demo_loaders()]
    assert names.index("aa-test") < names.index("accounts") < names.index("zz-test")
    load()
    assert calls == ["early", "late"]


def test_the_demo_has_a_closed_round_with_essays_to_grade():
    from contests.models import Round
    from judging.models import EssayAssignment, EssayGuide
    from leaderboards.models import RoundRanking

    output = load()
    round_ = Round.objects.get(contest__slug="demo-chung-ket-tu-luan")
    assert round_.closed_at is not None
    assert f"/judging/rounds/{round_.pk}/" in output
    assert EssayAssignment.objects.filter(round=round_, status="awaiting").count() == 8
    assert EssayGuide.objects.filter(round=round_).exclude(rubric="").exists()
    assert RoundRanking.objects.get(round=round_).status == "draft"  # version 1, to recompute after grading
    judges = Membership.objects.filter(organisation=round_.contest.organisation, role=Role.JUDGE)
    assert judges.count() >= 3  # two grades per essay, a third when they differ
    for phone in ("0901000006", "0901000007"):
        assert authenticate(username=phone, password="canbo-demo-2026") is not None
    # The essay question is retired once drawn: the other demo contest never draws an essay.
    from questionbank.models import Question

    assert not Question.objects.filter(type="essay", status="approved").exists()
def test_the_readme_says_how_to_load_the_demo_on_a_production_like_install():
    """A newcomer on PostgreSQL/Redis with a real SECRET_KEY gets refused by load_demo: the README says what to do."""
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert "manage.py load_demo --allow-production" in readme
    assert "--ws-max-size 65536" in readme  # the frame limit the protocol documents
