"""Structured logs without personal data (contest_engine/logs.py, issue 12): every line written while a request
is served carries its request id (the one sent back in ``X-Request-ID``), the user id and the attempt id; no
line — message, arguments or traceback — carries the phone number, e-mail address, ID number or full name of
the citizen or of what they posted. ``LOG_FORMAT=json`` makes the settings' handler write JSON lines."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys

import pytest
from django.http import HttpResponse
from django.urls import include, path

from contest_engine import logs
from tests.factories import CitizenProfileFactory
from tests.outage_data import ROOT, child_env

logger = logging.getLogger("tests.personal_view")

NAME, PHONE, EMAIL, NATIONAL_ID = "Trần Thị Bích Ngọc", "0987654321", "ngoc.tran@example.vn", "092190001234"
POSTED_NAME, POSTED_PHONE = "Lê Văn Tám", "+84 912 345 678"
OTHER_PHONE = "0356789012"


def personal_view(request, attempt_id: int | None = None):
    user = request.user  # loaded by the view, as real views do
    logger.warning("sign-up of %s (%s, %s), ID %s, for %s", request.POST.get("guardian_name"),
                   request.POST.get("guardian_phone"), user.email, user.profile.national_id, user.full_name)
    try:
        # Another person's number, known to no context: the pattern catches it.
        raise ValueError(f"duplicate key (phone)=({OTHER_PHONE}) for {user.full_name}")
    except ValueError:
        logger.exception("could not store the registration of user %s", user.pk)
    return HttpResponse("ok")


urlpatterns = [
    path("t/personal/", personal_view),
    path("t/attempts/<int:attempt_id>/", personal_view),
    path("", include("contest_engine.urls")),
]


@pytest.fixture
def json_log():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        root.removeHandler(handler)


@pytest.fixture
def person(org_a):
    profile = CitizenProfileFactory(unit=org_a, national_id=NATIONAL_ID)
    user = profile.user
    user.full_name, user.phone, user.email = NAME, PHONE, EMAIL
    user.save()
    return user


@pytest.mark.django_db
@pytest.mark.urls(__name__)
@pytest.mark.parametrize("url", ["/t/personal/", "/t/attempts/4711/"])
def test_lines_of_a_request_have_its_ids_and_no_personal_data(client, json_log, person, url):
    client.force_login(person)
    response = client.post(url, {"guardian_name": POSTED_NAME, "guardian_phone": POSTED_PHONE},
                           headers={"X-Request-ID": "lb-7f3a9c01d2"})
    assert response.status_code == 200
    assert response["X-Request-ID"] == "lb-7f3a9c01d2"
    lines = [line for line in json_log() if line["logger"] == "tests.personal_view"]
    assert len(lines) == 2
    for line in lines:
        assert line["request_id"] == "lb-7f3a9c01d2"
        assert line["user_id"] == person.pk
        assert (line["method"], line["path"]) == ("POST", url)
        assert line.get("attempt_id") == (4711 if "attempts" in url else None)
        assert line["level"] in {"WARNING", "ERROR"}
    text = json.dumps(lines, ensure_ascii=False)
    for secret in (NAME, PHONE, EMAIL, NATIONAL_ID, POSTED_NAME, POSTED_PHONE, "912 345 678", OTHER_PHONE):
        assert secret not in text, secret
    assert lines[0]["message"] == "sign-up of [redacted] ([redacted], [redacted]), ID [redacted], for [redacted]"
    assert "ValueError: duplicate key (phone)=([phone]) for [redacted]" in lines[1]["exception"]  # traceback kept


@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_a_request_without_a_sane_id_gets_a_new_one_and_the_context_ends_with_it(client, json_log, person):
    client.force_login(person)
    first = client.post("/t/personal/", headers={"X-Request-ID": "bad id\nwith newline"})
    second = client.post("/t/personal/")
    ids = {first["X-Request-ID"], second["X-Request-ID"]}
    assert len(ids) == 2
    assert all(len(i) == 32 for i in ids)
    assert {line["request_id"] for line in json_log() if line["logger"] == "tests.personal_view"} == ids
    assert logs.current() == {}


def test_redaction_patterns_leave_other_numbers_alone():
    assert logs.redact("0912345678, +84 912 345 678, 0292.3812.345, 079123456789, a.b@c.vn") == (
        "[phone], [phone], [phone], [id-number], [email]")
    kept = "attempt 912345678 round 31135 at 2026-12-07T23:35:45+07:00 took 1234567 ms, 3 of 10"
    assert logs.redact(kept) == kept


def test_log_format_json_configures_the_handler():
    code = ("import django, logging; django.setup(); "
            "logging.getLogger('contest_engine.x').warning('hello %s', 'ngoc.tran@example.vn'); "
            "logging.getLogger('uvicorn.error').warning('from %s', 'uvicorn')")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
                            env=child_env("postgres://postgres@127.0.0.1:1/none", LOG_FORMAT="json"))
    lines = [json.loads(raw) for raw in result.stderr.splitlines() if raw.startswith("{")]
    assert [(line["level"], line["logger"], line["message"]) for line in lines] == [
        ("WARNING", "contest_engine.x", "hello [email]"), ("WARNING", "uvicorn.error", "from uvicorn")]
    plain = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
                           env=child_env("postgres://postgres@127.0.0.1:1/none"))
    assert "WARNING contest_engine.x hello [email]" in plain.stderr
