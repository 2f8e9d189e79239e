"""Issue 25, point 8: the admin of the question bank and of contests in Vietnamese, as a writer and as an organiser
would click through it — every changelist (with its filters) and a change form of each, on a phone and a
desktop: no English interface words, no raw choice codes (``single``, ``easy``, ``in_progress`` …) and dates in
one Vietnamese format (dd/mm/yyyy, HH:MM)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import models as dj_models
from django.utils import timezone

from accounts.models import Role
from contests import models as contest_models
from contests.services.attempts.start import attempt_start
from contests.services.overrides import override_extra_time
from questionbank import models as bank_models
from questionbank.models import Difficulty, QuestionStatus
from tests.browser.conftest import english_left, login
from tests.contests.factories import ContestFactory, RoundFactory, bank, register
from tests.factories import CitizenProfileFactory, OrganisationFactory, make_staff
from tests.leaderboards.conftest import People
from tests.questionbank.factories import make_question, single_options

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

APPS = ("questionbank", "contests")
# Dates the English/ISO way that a Vietnamese page never shows.
FOREIGN_DATES = re.compile(r"\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\.? \d|\b\d{4}-\d{2}-\d{2}\b|"
                           r"\b(?:a\.m\.|p\.m\.|midnight|noon)\b|\btháng \d+ \d+, \d{4}")


def raw_codes() -> set[str]:
    """Every stored choice value of the two apps' models that differs from its label (what must never show)."""
    codes: set[str] = set()
    for module in (bank_models, contest_models):
        for model in vars(module).values():
            if not (isinstance(model, type) and issubclass(model, dj_models.Model) and not model._meta.abstract):
                continue
            for field in model._meta.get_fields():
                for value, label in getattr(field, "flatchoices", None) or []:
                    if isinstance(value, str) and value and value != str(label):
                        codes.add(value)
    return codes


# Django's own Vietnamese for its admin, in words an official does not use (overridden in locale/vi).
AWKWARD = {"Bởi": r"(?m)^\s*Bởi ", "Thêm vào": r"Thêm vào", "Bản ghi nhớ": r"(?i)bản ghi nhớ", "Đi đến": r"Đi đến",
           "Hoạt động:": r"Hoạt động:", "được chọn": r"\d+\s+của \d+ được chọn"}


def visible_problems(page) -> list[str]:
    text = page.locator("body").inner_text()
    problems = [f"English: {word}" for word in english_left(page, "body")]
    problems += [f"awkward: {name}" for name, pattern in AWKWARD.items() if re.search(pattern, text)]
    problems += [f"label: {label}" for label in page.eval_on_selector_all(
        ".form-row label[for], .fieldBox label[for]", "els => els.map(e => e.innerText.trim())")
        if label and label[0].isalpha() and not label[0].isupper()]
    problems += [f"code: {code}" for code in sorted(raw_codes())
                 if re.search(rf"(?<![\w/.-]){re.escape(code)}(?![\w/.-])", text)]
    problems += [f"date: {m.group(0)}" for m in FOREIGN_DATES.finditer(text)]
    for value in page.eval_on_selector_all(
            "input.vDateField, input.vTimeField", "els => els.map(e => e.className + '=' + e.value)"):
        kind, _, typed = value.partition("=")
        pattern = r"\d{2}/\d{2}/\d{4}" if "vDateField" in kind else r"\d{2}:\d{2}"
        if typed and not re.fullmatch(pattern, typed):
            problems.append(f"input: {typed}")
    return problems


def walk(page, server: str) -> dict[str, list[str]]:
    """Open the admin index, then each changelist of the two apps (with its filters' choices), the first
    object's change form and the add form where offered; returns {url: problems}."""
    page.goto(f"{server}/admin/")
    found: dict[str, list[str]] = {"/admin/": visible_problems(page)}
    lists = sorted({href for href in page.eval_on_selector_all(
        "#content-main a", "els => els.map(e => e.getAttribute('href'))")
        if href and re.fullmatch(rf"/admin/({'|'.join(APPS)})/\w+/", href)})
    assert lists, "no changelist of the bank or contests on the admin index"
    for href in lists:
        page.goto(server + href)
        found[href] = visible_problems(page)
        assert page.locator("#changelist-filter details:not([open])").count() == 0  # every filter's choices seen
        first = page.locator("#result_list tbody tr th a, #result_list tbody tr td.field-short_stem a").first
        if first.count():
            change = first.get_attribute("href")
            page.goto(server + change)
            found[change] = visible_problems(page)
        page.goto(server + href)
        add = page.locator(".object-tools a.addlink").first
        if add.count():
            target = add.get_attribute("href")
            page.goto(server + target)
            found[target] = visible_problems(page)
    return {url: problems for url, problems in found.items() if problems}


@pytest.fixture
def city():
    now = timezone.now()
    org = OrganisationFactory(name="Sở Tư pháp (thử)", is_unit=False)
    ward = OrganisationFactory(name="Phường Ninh Kiều")
    writer = make_staff(org, Role.WRITER)
    organiser = make_staff(org, Role.ORGANISER)
    bank(org, 6)
    for qtype, difficulty, options in (("single", Difficulty.EASY, single_options()),
                                       ("multiple", Difficulty.HARD, single_options()),
                                       ("truefalse", Difficulty.MEDIUM, single_options(n=2))):
        make_question(org, type=qtype, difficulty=difficulty, author=writer, status=QuestionStatus.APPROVED,
                      options=options,
                      tags=["đất đai", "giao thông"], citation_document="Luật Đất đai 2024", citation_article="172")
    contest = ContestFactory(organisation=org, title="Tìm hiểu Luật Đất đai 2024", max_attempts=None)
    contest.allowed_units.set([ward])
    round = RoundFactory(contest=contest, name="Tuần 1", opens_at=now - dt.timedelta(days=1),
                         closes_at=now + dt.timedelta(days=6))
    citizen = CitizenProfileFactory(unit=ward).user
    registration = register(citizen, contest)
    attempt_start(user=citizen, round=round)
    override_extra_time(actor=organiser, registration=registration, round=round, seconds=300, reason="Mất điện")
    people = People(round)
    people.units = [ward]
    finished = people.attempt(1, score="7.5", duration_ms=61_000)
    return {"org": org, "writer": writer, "organiser": organiser, "registration": registration, "finished": finished}


@pytest.mark.parametrize("role", ["writer", "organiser"])
def test_the_bank_and_contest_admin_speak_vietnamese(asgi_server, any_page, city, role):
    assert {"single", "easy", "in_progress", "draft", "client"} <= raw_codes()  # the codes the walk looks for
    page = any_page
    login(page, asgi_server, city[role].username)
    problems = walk(page, asgi_server)
    assert problems == {}
    if role == "organiser":  # scores and durations in the attempts' list as on the results pages
        page.goto(f"{asgi_server}/admin/contests/attempt/")
        row = page.locator("#result_list tbody tr", has_text="Nguyễn Văn Thí Sinh 1").inner_text()
        assert "7,5" in row, row
        assert "01:01" in row, row
        assert "7,500" not in row, row
        assert "61.000" not in row, row
