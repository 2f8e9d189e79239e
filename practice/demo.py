"""Demo data for practice: a past contest whose round a mock exam can follow, and a few practice answers of the
demo citizen so the progress panel and the organisers' "most missed" page are not empty.

The open demo round (contests.demo) draws from road traffic and family law, so those topics are reserved and
the practice area offers the others — the leak rule is visible in the demo. Idempotent: the past contest is
looked up by slug; the citizen's sessions are made only when they have none.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from django.utils import timezone

from accounts.models import Organisation, User
from contest_engine.demo import demo_loader
from contests.models import Contest, ContestVisibility, Round
from practice.models import PracticeItem, PracticeSession
from practice.selectors import practice_pool, reservation_forget
from practice.services import practice_answer, practice_session_start
from questionbank.models import Topic

PAST_SLUG = "demo-tim-hieu-bo-luat-dan-su"
JUSTICE_SLUG = "can-tho-so-tu-phap"
CITIZEN_PHONE = "0912345678"
PAST_TOPICS = (("Bộ luật Dân sự", 5), ("Đất đai", 3), ("Căn cước", 2))


@demo_loader(order=60, name="practice")
def load(stdout: Any) -> None:
    organisation = Organisation.objects.filter(slug=JUSTICE_SLUG).first()
    topics = {t.name: t.pk for t in Topic.objects.filter(parent__isnull=True, name__in=[n for n, _ in PAST_TOPICS])}
    if organisation is None or len(topics) != len(PAST_TOPICS):
        stdout.write("  practice: the demo bank is missing — skipped (the accounts and questionbank loaders run first)")
        return
    now = timezone.now().replace(microsecond=0)
    contest, _ = Contest.objects.update_or_create(slug=PAST_SLUG, defaults={
        "organisation": organisation, "title": "Tìm hiểu Bộ luật Dân sự, Luật Đất đai và Luật Căn cước (đã kết thúc)",
        "summary": "Cuộc thi mẫu đã kết thúc: dùng cấu trúc đề của nó để thi thử trong mục Luyện tập.",
        "visibility": ContestVisibility.PUBLISHED, "time_limit_seconds": 10 * 60, "max_attempts": 1,
        "prediction_enabled": False,
        "blueprint": [{"topic_id": topics[name], "difficulty": None, "count": n, "points": None}
                      for name, n in PAST_TOPICS],
    })
    round_, created = Round.objects.get_or_create(contest=contest, name="Tuần 1", defaults={
        "position": 1, "opens_at": now - dt.timedelta(days=14), "closes_at": now - dt.timedelta(days=7)})
    if not created and round_.closes_at > now:
        round_.opens_at, round_.closes_at = now - dt.timedelta(days=14), now - dt.timedelta(days=7)
        round_.save()
    reservation_forget()
    citizen = User.objects.filter(phone=CITIZEN_PHONE).first()
    made = 0
    if citizen is not None and not PracticeSession.objects.filter(user=citizen).exists():
        rng = random.Random(2026)
        for days_ago in (2, 1, 0):
            when = now - dt.timedelta(days=days_ago, hours=1)
            session = practice_session_start(user=citizen, mode="mixed", count=5, now=when)
            for item in PracticeItem.objects.filter(session=session).select_related("question").order_by("position"):
                options = list(item.question.options.all())
                correct = [o.pk for o in options if o.fraction > 0]
                wrong = [o.pk for o in options if o.fraction <= 0]
                choice = correct[:1] if (rng.random() < 0.6 or not wrong) else [rng.choice(wrong)]
                response = {"options": choice} if item.option_order else {"text": options[0].text if options else ""}
                practice_answer(user=citizen, session_id=session.pk, position=item.position, response=response,
                                now=when + dt.timedelta(seconds=20 * item.position))
            made += 1
    stdout.write(f"  practice: {practice_pool(now=now).count()} questions open for practice; mock exam of "
                 f"“{contest.title}”; {made} demo sessions for the citizen — /practice/")
