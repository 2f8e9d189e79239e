"""Non-negotiable 2 (answer keys) — systemic.

Before the round closes nothing a contestant can fetch depends on the answer key. The test proves it by
*difference*: it captures every page, JSON state and WebSocket frame a contestant sees, then changes the key
behind them (which option is correct, credit fractions, per-answer correctness, feedback, explanation,
citation) and captures again. Any byte that differs — a flag, a class, an order, a count — is a leak.
After the close (or right after a single-attempt round's attempt when the organiser allows it) the result
page shows the correct option, the explanation and the citation.

Where key fields reach an output today (grep of the code, kept honest by ``test_key_fields_reach_only_...``):
``contests.selectors.attempt_review`` → templates/contests/result.html (only when ``review_allowed``);
templates/questionbank/preview.html (staff preview; staff only — test_staff_views.py); exports (staff only);
templates/practice/session.html (practice: only questions that no open or future round may draw).
"""

from __future__ import annotations

import datetime as dt
import difflib
import random
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from contests.models import Answer, Attempt, AttemptQuestion
from contests.selectors import attempt_review
from contests.services.attempts.answers import attempt_answer
from contests.services.attempts.finish import attempt_submit
from contests.services.attempts.start import draw_questions
from contests.services.attempts.state import attempt_state
from questionbank.models import QuestionOption
from tests.contests.factories import ContestFactory, QuestionFactory, RoundFactory, register
from tests.factories import CitizenProfileFactory
from tests.realtime.conftest import (  # noqa: F401 - fixture used by the socket test
    open_client,
    session_cookie,
)

EXPLANATION = "GIAI-THICH-BI-MAT"
FEEDBACK = "PHAN-HOI-BI-MAT"
CITATION_ARTICLE = "987"


def marked_bank(organisation, n: int = 8, *, correct_first: bool = False) -> list:
    """Questions whose option texts are unique markers ``PA-<q>-<pos>``; the correct one at a random position
    (or always first, like a bank whose writers put the answer first)."""
    rng = random.Random(7)
    questions = []
    for q in range(n):
        right = 0 if correct_first else rng.randrange(4)
        # (An empty list would make the factory add its default options, one of them saying "Đáp án đúng".)
        specs = [(f"PA-{q}-{pos}", "1" if pos == right else "0") for pos in range(4)]
        question = QuestionFactory(organisation=organisation, options=specs, explanation=f"<p>{EXPLANATION}-{q}</p>",
                                   citation_document="52/2014/QH13", citation_article=CITATION_ARTICLE)
        QuestionOption.objects.filter(question=question).update(feedback=f"{FEEDBACK}-{q}")
        assert question.options.count() == 4
        questions.append(question)
    return questions


def open_round(org, **contest_kwargs: Any):
    contest = ContestFactory(organisation=org, **contest_kwargs)
    now = timezone.now()
    return RoundFactory(contest=contest, opens_at=now - dt.timedelta(hours=1), closes_at=now + dt.timedelta(days=1))


def flip_keys(attempt: Attempt) -> None:
    """Change everything that is key: another option becomes the correct one (snapshot key and bank),
    explanations, citations and feedback change, stored per-answer correctness flips."""
    for aq in AttemptQuestion.objects.filter(attempt=attempt).select_related("question"):
        key = dict(aq.key)
        if key.get("options"):
            ids = list(key["options"])
            fractions = [key["options"][i] for i in ids]
            key["options"] = dict(zip(ids, fractions[1:] + fractions[:1], strict=True))
            key["feedback"] = dict.fromkeys(ids, "PHAN-HOI-KHAC")
        key["explanation"], key["citation"] = "GIAI-THICH-KHAC", "Điều 1"
        aq.key = key
        aq.save(update_fields=["key"])
        options = list(aq.question.options.order_by("position", "id"))
        fractions = [o.fraction for o in options]
        for option, fraction in zip(options, fractions[1:] + fractions[:1], strict=True):
            option.fraction, option.feedback = fraction, "PHAN-HOI-KHAC"
        QuestionOption.objects.bulk_update(options, ["fraction", "feedback"])
        aq.question.explanation = "GIAI-THICH-KHAC"
        aq.question.save(update_fields=["explanation"])
    for answer in Answer.objects.filter(attempt=attempt):
        if answer.is_correct is not None:
            answer.is_correct = not answer.is_correct
            answer.points_awarded = Decimal(1) - (answer.points_awarded or 0)
            answer.save(update_fields=["is_correct", "points_awarded"])


_VOLATILE = [
    (re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"'), "CSRF"),
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?([+-]\d\d:\d\d|Z)?"), "ISO"),
    (re.compile(r"\b\d\d:\d\d(:\d\d)?\b"), "HH:MM"),
    (re.compile(r'"server_time_ms": \d+'), "MS"),
]


def normalise(text: str) -> str:
    for pattern, replacement in _VOLATILE:
        text = pattern.sub(replacement, text)
    return text


def capture(client: Client, attempt: Attempt) -> dict[str, str]:
    """Everything the contestant can fetch over HTTP, plus the connect-time JSON state."""
    import json

    contest = attempt.round.contest
    urls = {
        "home": reverse("home"),
        "contest list": reverse("contests:list"),
        "contest page": contest.get_absolute_url(),
        "exam page": reverse("contests:exam", kwargs={"attempt_id": attempt.pk}),
        "result page": reverse("contests:result", kwargs={"attempt_id": attempt.pk}),
        "my attempts": reverse("contests:my_attempts"),
        "my data": reverse("accounts:my_data"),
        "live board": reverse("leaderboards:round", kwargs={"round_id": attempt.round_id}),
    }
    pages = {}
    for name, url in urls.items():
        response = client.get(url, follow=True)
        assert response.status_code == 200, (name, response.status_code)
        pages[name] = normalise(response.content.decode())
    response = client.post(reverse("accounts:my_data_export"))  # the personal-data download (POST only)
    assert response.status_code == 200
    exported = _drop_export_log(json.loads(response.content))  # each download is logged: not key-related
    pages["my data export"] = normalise(json.dumps(exported, ensure_ascii=False, sort_keys=True))
    state = attempt_state(attempt=Attempt.objects.get(pk=attempt.pk))
    pages["attempt state"] = normalise(json.dumps(state, ensure_ascii=False, sort_keys=True))
    return pages


def _drop_export_log(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_export_log(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_drop_export_log(v) for v in value
                if not (isinstance(v, dict) and v.get("action") == "personal_data.exported")]
    return value


def assert_same(before: dict[str, str], after: dict[str, str]) -> None:
    for name in before:
        diff = "\n".join(difflib.unified_diff(before[name].splitlines(), after[name].splitlines(), lineterm="", n=1))
        assert before[name] == after[name], f"{name} changes with the answer key: it reveals it\n{diff}"


def assert_no_secret(pages: dict[str, str]) -> None:
    for name, text in pages.items():
        for secret in (EXPLANATION, FEEDBACK, "GIAI-THICH-KHAC", "PHAN-HOI-KHAC", "fraction", "is_correct",
                       "đáp án đúng"):
            assert secret not in text, (name, secret)


@pytest.mark.django_db
def test_nothing_a_contestant_fetches_before_close_depends_on_the_key(org_a, citizen, client):
    marked_bank(org_a)
    round_ = open_round(org_a, max_attempts=2, prediction_enabled=True)
    register(citizen, round_.contest)
    client.force_login(citizen)
    response = client.post(reverse("contests:start", kwargs={"round_id": round_.pk}))
    assert response.status_code == 302
    attempt = Attempt.objects.get(user=citizen, round=round_)
    for aq in AttemptQuestion.objects.filter(attempt=attempt).order_by("position")[:3]:
        attempt_answer(attempt_id=attempt.pk, user_id=citizen.pk, position=aq.position,
                       response={"options": [aq.snapshot["options"][0]["id"]]}, client_seq=aq.position)

    in_progress = capture(client, attempt)
    assert_no_secret(in_progress)
    assert "PA-" in in_progress["attempt state"]  # the option texts themselves are shown, of course
    flip_keys(attempt)
    assert_same(in_progress, capture(client, attempt))

    attempt_submit(attempt=Attempt.objects.get(pk=attempt.pk))
    submitted = capture(client, attempt)
    assert_no_secret(submitted)
    assert "sẽ được công bố khi đợt thi kết thúc" in submitted["result page"]
    flip_keys(attempt)  # per-answer correctness flips too; the stored total score does not
    assert_same(submitted, capture(client, attempt))


@pytest.mark.django_db
def test_option_order_is_drawn_per_attempt(org_a):
    """A bank whose writers always put the correct option first must not show it first: options are
    shuffled per attempt, reproducibly from the draw's seed."""
    marked_bank(org_a, correct_first=True)
    round_ = open_round(org_a)
    first_positions = []
    for seed in range(12):
        for item in draw_questions(round=round_, settings=round_.settings, rng=random.Random(seed)):
            correct = {int(i) for i, f in item.key["options"].items() if Decimal(f) > 0}
            ids = [o["id"] for o in item.snapshot["options"]]
            first_positions.append(ids.index(next(iter(correct))))
    assert len(set(first_positions)) == 4, "the correct option always sits at the same place"
    assert first_positions.count(0) < len(first_positions) / 2

    def orders(seed: int) -> list:
        return [[o["id"] for o in item.snapshot["options"]]
                for item in draw_questions(round=round_, settings=round_.settings, rng=random.Random(seed))]

    assert orders(3) == orders(3)


def _review_items(client: Client, attempt: Attempt) -> str:
    response = client.get(reverse("contests:result", kwargs={"attempt_id": attempt.pk}))
    assert response.status_code == 200
    return response.content.decode()


def _assert_review_shown(html: str, attempt: Attempt) -> None:
    for aq in AttemptQuestion.objects.filter(attempt=attempt):
        correct_ids = {int(i) for i, f in aq.key["options"].items() if Decimal(f) > 0}
        for option in aq.snapshot["options"]:
            item = re.search(r'<li class="([^"]*)">\s*' + re.escape(option["text"]) + r"\s*(.*?)</li>", html, re.S)
            assert item is not None, option["text"]
            is_marked = "correct" in item.group(1).split() and "đáp án đúng" in item.group(2)
            assert is_marked == (option["id"] in correct_ids), option["text"]
        assert aq.key["explanation"].replace("<p>", "").replace("</p>", "") in html
    assert f"Điều {CITATION_ARTICLE}" in html or CITATION_ARTICLE in html


@pytest.mark.django_db
def test_result_page_shows_key_explanation_and_citation_after_close(org_a, citizen, client):
    marked_bank(org_a)
    round_ = open_round(org_a, max_attempts=2)
    register(citizen, round_.contest)
    client.force_login(citizen)
    client.post(reverse("contests:start", kwargs={"round_id": round_.pk}))
    attempt = attempt_submit(attempt=Attempt.objects.get(user=citizen, round=round_))
    assert attempt_review(attempt=attempt, now=timezone.now()) is None
    round_.closes_at = timezone.now() - dt.timedelta(seconds=1)
    round_.save(update_fields=["closes_at"])
    _assert_review_shown(_review_items(client, attempt), attempt)


@pytest.mark.django_db
def test_reveal_right_after_a_single_attempt(org_a, citizen, client):
    marked_bank(org_a)
    round_ = open_round(org_a, max_attempts=1, reveal_answers_after_attempt=True)
    register(citizen, round_.contest)
    client.force_login(citizen)
    client.post(reverse("contests:start", kwargs={"round_id": round_.pk}))
    attempt = Attempt.objects.get(user=citizen, round=round_)
    exam_html = client.get(reverse("contests:exam", kwargs={"attempt_id": attempt.pk})).content.decode()
    assert EXPLANATION not in exam_html
    assert attempt_review(attempt=attempt, now=timezone.now()) is None  # never while in progress
    attempt = attempt_submit(attempt=attempt)
    _assert_review_shown(_review_items(client, attempt), attempt)


@pytest.mark.django_db
def test_reveal_setting_is_ignored_when_more_attempts_are_allowed(org_a, client):
    """A second attempt would profit from the key: reveal-after-attempt needs max_attempts == 1, also when a
    round override or the stored flag says otherwise."""
    marked_bank(org_a)
    round_ = open_round(org_a, max_attempts=2)
    round_.contest.__class__.objects.filter(pk=round_.contest_id).update(reveal_answers_after_attempt=True)
    round_.refresh_from_db()
    user = CitizenProfileFactory(unit=org_a).user
    register(user, round_.contest)
    client.force_login(user)
    client.post(reverse("contests:start", kwargs={"round_id": round_.pk}))
    attempt = attempt_submit(attempt=Attempt.objects.get(user=user, round=round_))
    html = _review_items(client, attempt)
    assert EXPLANATION not in html
    assert "đáp án đúng" not in html


# --- WebSocket ---------------------------------------------------------------------------------------


def _stable(frame: dict) -> dict:
    volatile = {"server_time", "server_time_ms", "saved_at", "t", "server_t", "connection", "v"}
    return {k: v for k, v in frame.items() if k not in volatile}


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_socket_frames_do_not_depend_on_the_key(org_a, citizen, open_client):  # noqa: F811
    @sync_to_async
    def setup() -> tuple[Attempt, str]:
        marked_bank(org_a)
        round_ = open_round(org_a, max_attempts=2)
        register(citizen, round_.contest)
        from contests.services.attempts.start import attempt_start

        return attempt_start(user=citizen, round=round_), session_cookie(citizen)

    attempt, cookie = await setup()

    async def session(seq: int) -> list[dict]:
        frames: list[dict] = []
        client = await open_client(attempt.pk, cookie)
        snapshot = await client.recv()
        frames.append(snapshot)
        for question in snapshot["questions"]:
            for option in question["options"]:  # right and wrong answers must be acknowledged alike
                seq += 1
                await client.send({"type": "answer", "seq": seq, "position": question["position"],
                                   "response": {"options": [option["id"]]}})
                ack = await client.recv()
                frames.append({**ack, "seq": None})
        await client.close()
        return frames

    first = await session(0)
    await sync_to_async(flip_keys)(attempt)
    second = await session(1000)
    assert len(first) > 10
    # Snapshots differ only by the answers stored in the first session and the clock.
    first[0].pop("answers"), second[0].pop("answers"), first[0].pop("last_seq"), second[0].pop("last_seq")
    for one, two in zip(first, second, strict=True):
        assert _stable(one) == _stable(two)


# --- Where key fields may appear ------------------------------------------------------------------------

KEY_WORDS = re.compile(r"\b(fraction|is_correct|explanation|feedback|citation|correct)\b|\.key\b", re.I)
ALLOWED = {
    "templates/contests/result.html": "the review, rendered only when contests.selectors.review_allowed",
    "templates/questionbank/preview.html": "staff-only preview of a question with its key",
    # Practice shows the key by design, only for questions no open or future round may draw (the leak rule:
    # practice.selectors, tests/practice/test_leak_rule.py); the mock exam's keys only on its summary.
    "templates/practice/session.html": "practice feedback and review, leak rule in practice.selectors",
    # Live games show each question's answer at its reveal; the server sends it only when the question has
    # closed (tests/live/test_consumers.py scans every frame of every role before each reveal).
    "templates/live/play.html": "the player's reveal, filled from the server's live.reveal frame",
    "static/js/live-player.js": "the player's reveal, filled from the server's live.reveal frame",
    "templates/live/_stage.html": "the host's and presenter's reveal (staff pages), from live.reveal",
    "static/js/live-host.js": "the host's and presenter's reveal (staff pages), from live.reveal",
}


def test_key_fields_reach_only_the_review_and_staff_templates():
    base = Path(settings.BASE_DIR)
    offenders = []
    for path in [*base.glob("templates/**/*.html"), *base.glob("static/js/**/*.js")]:
        rel = path.relative_to(base).as_posix()
        if rel in ALLOWED or rel.startswith(("templates/admin/", "templates/exports/", "templates/judging/",
                                             "templates/leaderboards/")):
            continue  # staff templates and the admin (covered by the staff and admin isolation tests)
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if KEY_WORDS.search(line):
                offenders.append(f"{rel}:{number}: {line.strip()[:120]}")
    assert offenders == [], "key fields in a contestant-facing template or script:\n" + "\n".join(offenders)


def test_demo_bank_does_not_put_the_answer_in_one_place():
    """Option ids follow the bank's order, so a client sorting options by id sees the writer's order even
    though the exam shuffles them: the demo bank must not keep the correct option first."""
    from collections import Counter

    from questionbank import demo

    firsts = Counter()
    for item in demo.QUESTIONS:
        qtype, options = demo._options(item)
        if qtype == "single" and len(options) > 2:
            firsts[next(i for i, o in enumerate(options) if o.fraction > 0)] += 1
    total = sum(firsts.values())
    assert total >= 20
    assert max(firsts.values()) <= total / 2, firsts
