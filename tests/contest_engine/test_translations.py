"""The English catalogue: complete and compiled (scripts/check_translations.py), and English pages in practice.

makemessages is deliberately not run here (msgids change while the apps are written): these tests check the
committed catalogue for the msgids it holds, and that the pages a visitor sees first come out in English with the
language cookie set to "en" and in Vietnamese without it.
"""

from __future__ import annotations

import html
import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from tests.contests.factories import ContestFactory, RoundFactory
from tests.factories import OrganisationFactory

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "check_translations.py"
CATALOGUE = ROOT / "locale" / "en" / "LC_MESSAGES" / "django.po"

_spec = importlib.util.spec_from_file_location("check_translations", SCRIPT)
check_translations = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("check_translations", check_translations)  # dataclasses look their module up there
_spec.loader.exec_module(check_translations)

PAGES = {
    "home": "/",
    "login": "/accounts/login/",
    "signup": "/accounts/signup/",
    "contest list": "/contests/",
}


# --- the catalogue ---------------------------------------------------------------------------------------------


def test_committed_catalogue_is_complete_and_compiled():
    result = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True, cwd=ROOT, check=False)
    assert result.returncode == 0, result.stderr
    assert "all translated and compiled" in result.stdout


@pytest.fixture
def catalogue_copy(tmp_path):
    """A copy of the committed .po and .mo that a test may damage."""
    po = tmp_path / "django.po"
    shutil.copy(CATALOGUE, po)
    shutil.copy(CATALOGUE.with_suffix(".mo"), po.with_suffix(".mo"))
    assert check_translations.check(po) == []
    return po


def _edit(po: Path, old: str, new: str) -> None:
    text = po.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    po.write_text(text.replace(old, new), encoding="utf-8")


def _problems(po: Path) -> str:
    return "\n".join(check_translations.check(po))


def test_checker_reports_an_untranslated_entry(catalogue_copy):
    _edit(catalogue_copy, 'msgid "Đăng nhập"\nmsgstr "Log in"', 'msgid "Đăng nhập"\nmsgstr ""')
    assert "'Đăng nhập' is untranslated" in _problems(catalogue_copy)
    assert check_translations.main([str(catalogue_copy)]) == 1


def _first(po: Path, condition) -> check_translations.Entry:
    return next(e for e in check_translations.parse_po(po)[1:]
                if condition(e) and "\n" not in e.msgid and not any('"' in v or "\\" in v for v in e.msgstr.values()))


def test_checker_reports_a_missing_plural_form(catalogue_copy):
    entry = _first(catalogue_copy, lambda e: e.msgid_plural is not None and len(e.msgstr[1]) < 70)
    _edit(catalogue_copy, f'msgstr[1] "{entry.msgstr[1]}"', 'msgstr[1] ""')
    assert f"{entry.msgid[:60]!r} is untranslated" in _problems(catalogue_copy)


def test_checker_reports_a_fuzzy_entry(catalogue_copy):
    _edit(catalogue_copy, 'msgid "Đăng nhập"\n', '#, fuzzy\nmsgid "Đăng nhập"\n')
    assert "'Đăng nhập' is fuzzy" in _problems(catalogue_copy)


def test_checker_reports_a_fuzzy_header(catalogue_copy):
    _edit(catalogue_copy, '#\nmsgid ""\nmsgstr ""\n', '#\n#, fuzzy\nmsgid ""\nmsgstr ""\n')
    assert "the header is marked fuzzy" in _problems(catalogue_copy)


def test_checker_reports_a_mo_out_of_sync_with_the_po(catalogue_copy):
    _edit(catalogue_copy, 'msgstr "Log in"', 'msgstr "Sign in"')
    problems = _problems(catalogue_copy)
    assert "out of sync" in problems
    assert "1 changed" in problems


def test_checker_reports_a_new_entry_not_yet_compiled(catalogue_copy):
    with catalogue_copy.open("a", encoding="utf-8") as po:
        po.write('\nmsgid "Chuỗi mới"\nmsgstr "New string"\n')
    assert "1 entries added/removed" in _problems(catalogue_copy)


def test_checker_reports_a_missing_mo(catalogue_copy):
    catalogue_copy.with_suffix(".mo").unlink()
    assert "missing" in _problems(catalogue_copy)


def test_checker_reports_a_lost_placeholder(catalogue_copy):
    entry = _first(catalogue_copy, lambda e: "python-format" in e.flags and e.msgid_plural is None
                   and "%(" in e.msgstr[0] and len(e.msgstr[0]) < 70)
    _edit(catalogue_copy, f'msgstr "{entry.msgstr[0]}"', 'msgstr "No placeholder left"')
    assert f"{entry.msgid[:60]!r} placeholders differ" in _problems(catalogue_copy)


def test_checker_reports_a_msgid_copied_into_msgstr(catalogue_copy):
    _edit(catalogue_copy, 'msgstr "Log in"', 'msgstr "Đăng nhập"')
    assert "still contains Vietnamese" in _problems(catalogue_copy)


def test_parser_reads_plural_and_multiline_entries():
    entries = {entry.msgid: entry for entry in check_translations.parse_po(CATALOGUE)}
    rounds = entries["%(n)s đợt thi"]
    assert rounds.msgid_plural == "%(n)s đợt thi"
    assert rounds.msgstr == {0: "%(n)s round", 1: "%(n)s rounds"}
    assert "python-format" in rounds.flags
    long_ones = [e for e in entries.values() if len(e.msgid) > 200]
    assert long_ones, "makemessages wraps long msgids over several lines; the parser must join them"
    assert all(e.msgstr[0] and "\n" not in e.msgid for e in long_ones)


# --- the pages -------------------------------------------------------------------------------------------------

# Vietnamese letters that English never uses: any of them in an English page is an untranslated string.
VIETNAMESE = check_translations.VIETNAMESE_LETTERS


def _visible_text(response) -> str:
    page = response.content.decode()
    page = re.sub(r"(?s)<(script|style)\b.*?</\1>", " ", page)
    page = re.sub(r"<[^>]+>", "\n", page)
    return html.unescape(page)


def _nav(response) -> str:
    match = re.search(r"(?s)<nav aria-label=[^>]*>.*?</nav>", response.content.decode())
    assert match, "templates/base.html has a main navigation"
    return html.unescape(match.group(0))


@pytest.fixture
def english_data(db):
    """A published contest with two rounds, named in ASCII so any Vietnamese letter on a page comes from the UI."""
    organisation = OrganisationFactory(name="Ward One", slug="ward-one")
    contest = ContestFactory(organisation=organisation, title="Traffic Law Quiz", slug="traffic-law-quiz",
                             summary="A quiz.")
    RoundFactory(contest=contest, name="Week 1")
    RoundFactory(contest=contest, name="Week 2")
    return contest


@pytest.mark.parametrize("url", PAGES.values(), ids=PAGES.keys())
def test_pages_are_english_with_the_english_cookie(client, english_data, url):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Language"] == "en"
    assert 'lang="en"' in response.content.decode()
    nav = _nav(response)
    assert "Log in" in nav
    assert "Sign up" in nav
    assert "Đăng nhập" not in nav
    # The whole visible page: the only Vietnamese left is the switcher naming Vietnamese in Vietnamese.
    text = _visible_text(response).replace("Tiếng Việt", "")
    leftovers = [line.strip() for line in text.splitlines() if VIETNAMESE.search(line)]
    assert leftovers == []


def test_english_page_content(client, english_data):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert "Online legal knowledge contests" in client.get("/").content.decode()
    login = client.get("/accounts/login/").content.decode()
    assert "Forgot your password?" in login
    assert "Phone number or email" in login
    signup = client.get("/accounts/signup/").content.decode()
    assert "Personal Data Processing Notice" in signup
    assert "Date of birth" in signup
    contests = client.get("/contests/").content.decode()
    assert "Legal knowledge contests" in contests
    assert "2 rounds" in contests  # the plural form


@pytest.mark.parametrize("url", PAGES.values(), ids=PAGES.keys())
def test_pages_are_vietnamese_without_a_cookie(client, english_data, url):
    response = client.get(url, HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert response.status_code == 200
    assert response["Content-Language"] == "vi"
    nav = _nav(response)
    assert "Đăng nhập" in nav
    assert "Đăng ký" in nav
    assert "Log in" not in nav
    assert "Sign up" not in _visible_text(response)


def test_vietnamese_contest_list_uses_the_vietnamese_msgid(client, english_data):
    page = client.get("/contests/").content.decode()
    assert "Các cuộc thi tìm hiểu pháp luật" in page
    assert "2 đợt thi" in page


@pytest.mark.django_db
def test_exam_page_texts_come_from_the_javascript_catalogue(client, settings):
    """exam.js takes its texts through Django's JavaScript catalogue: English when the person chose it."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    catalogue = client.get("/jsi18n/").content.decode()
    assert "Connection lost" in catalogue
    assert "All answers are saved." in catalogue
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "vi"
    assert "Connection lost" not in client.get("/jsi18n/").content.decode()
