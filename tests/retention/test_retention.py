"""Retention of the contests' personal data (retention/, issue 12): on the demo data, whose final contest (essays,
a ranking) is made to have ended 400 days ago while the other demo contest is open now.

- the dry run reports the due contest with its counts and changes nothing (no row, no audit event);
- the real run anonymises exactly that contest's registrations, essay texts and complaints — not the open
  contest's registrations of the same citizen, not the choice answers — marks it, audits it with counts;
- attempts and every ranking entry keep their numbers; the published list keeps its ranks and scores;
- a second run does nothing; a contest one day short of its retention is not touched.
"""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.models import AuditEvent, Membership, Role
from contest_engine.periodic import periodic_jobs
from contests.models import Answer, Attempt, Contest, Registration, Round
from judging.models import Complaint
from judging.selectors import published_rows
from leaderboards.models import RankingEntry, RoundRanking
from live.models import LivePlayer
from retention import selectors
from retention.services import retention_run
from tests.contests.factories import register
from tests.live.conftest import make_game

pytestmark = pytest.mark.django_db

FINAL = "demo-chung-ket-tu-luan"
OPEN = "demo-tim-hieu-phap-luat"


@pytest.fixture
def demo():
    call_command("load_demo", stdout=StringIO())
    final = Contest.objects.get(slug=FINAL)
    # The final ended 400 days ago (its rounds, and everything in them, moved back together).
    shift = dt.timedelta(days=400)
    for round_ in Round.objects.filter(contest=final):
        Round.objects.filter(pk=round_.pk).update(opens_at=round_.opens_at - shift, closes_at=round_.closes_at - shift)
    registration = Registration.objects.filter(contest=final).order_by("pk").first()
    Complaint.objects.create(round=Round.objects.filter(contest=final).first(), registration=registration,
                             received_at=timezone.now() - shift, content="Tôi là Nguyễn Thị Mai, đề nghị phúc khảo.")
    # Two of the final's citizens also played a live game with their registration (their shown name is its copy),
    # next to an anonymous nickname, which is linked to nobody.
    host = Membership.objects.filter(organisation=final.organisation, role=Role.ORGANISER).first().user
    game = make_game(final.organisation, host)
    for reg in Registration.objects.filter(contest=final).order_by("pk")[:2]:
        LivePlayer.objects.create(session=game, user=reg.user, registration=reg, display_name=reg.full_name,
                                  name_key=reg.full_name.casefold(), joined_at=timezone.now())
    LivePlayer.objects.create(session=game, display_name="Cú đêm", name_key="cú đêm", joined_at=timezone.now())
    # The same citizen also registers for the open contest: that registration is not due.
    open_ = Contest.objects.get(slug=OPEN)
    register(registration.user, open_)
    return {"final": final, "open": open_}


def snapshot(contest: Contest) -> dict:
    return {
        "registrations": list(Registration.objects.filter(contest=contest).order_by("pk").values()),
        "answers": list(Answer.objects.filter(attempt__round__contest=contest).order_by("pk").values()),
        "attempts": list(Attempt.objects.filter(round__contest=contest).order_by("pk").values()),
        "entries": list(RankingEntry.objects.filter(ranking__round__contest=contest)
                        .order_by("ranking_id", "position").values()),
        "rankings": list(RoundRanking.objects.filter(round__contest=contest).order_by("pk").values()),
        "complaints": list(Complaint.objects.filter(round__contest=contest).order_by("pk").values()),
        "contest": Contest.objects.filter(pk=contest.pk).values().get(),
        "players": list(LivePlayer.objects.filter(registration__contest=contest).order_by("pk").values()),
    }


def test_the_dry_run_reports_counts_and_changes_nothing(demo):
    final = demo["final"]
    essays = Answer.objects.filter(attempt__round__contest=final, attempt_question__snapshot__type="essay").count()
    assert essays == 8
    before = {name: snapshot(contest) for name, contest in demo.items()}
    events = AuditEvent.objects.count()

    [report] = retention_run(dry_run=True)
    assert (report.contest_id, report.registrations, report.essays, report.complaints, report.live_players) == (
        final.pk, 8, 8, 1, 2)
    assert report.retention_days == 365
    assert report.due_at <= timezone.now()

    out = StringIO()
    call_command("retention_run", "--dry-run", "--json", stdout=out)
    [line, summary] = out.getvalue().strip().splitlines()
    assert json.loads(line)["registrations"] == 8
    assert json.loads(line)["dry_run"] is True
    assert "nothing changed" in summary

    assert {name: snapshot(contest) for name, contest in demo.items()} == before
    assert AuditEvent.objects.count() == events


def test_the_run_anonymises_exactly_what_is_due_and_keeps_the_numbers(demo):
    final, open_ = demo["final"], demo["open"]
    before, open_before = snapshot(final), snapshot(open_)
    assert any(r["national_id"] or r["date_of_birth"] for r in before["registrations"])  # something to erase
    ranking = RoundRanking.objects.filter(round__contest=final).order_by("version").first()
    published_before = list(published_rows(ranking=ranking, limit=1000))

    [done] = retention_run()
    assert (done.contest_id, done.registrations, done.essays, done.complaints, done.live_players) == (
        final.pk, 8, 8, 1, 2)
    after = snapshot(final)
    players = dict(LivePlayer.objects.values_list("name_key", "display_name"))
    assert players.pop("cú đêm") == "Cú đêm"
    assert set(players.values()) == {selectors.ERASED_NAME}
    assert all(key.startswith("#erased:") for key in players)

    assert {(r["full_name"], r["date_of_birth"], r["national_id"]) for r in after["registrations"]} == {
        (selectors.ERASED_NAME, None, "")}
    # Everything else of the registrations stays (user, unit, times).
    strip = ("full_name", "date_of_birth", "national_id")
    assert ([{k: v for k, v in r.items() if k not in strip} for r in after["registrations"]]
            == [{k: v for k, v in r.items() if k not in strip} for r in before["registrations"]])
    essay_ids = set(Answer.objects.filter(attempt__round__contest=final, attempt_question__snapshot__type="essay")
                    .values_list("pk", flat=True))
    for old, new in zip(before["answers"], after["answers"], strict=True):
        if old["id"] in essay_ids:
            assert new == {**old, "response": {"text": selectors.ERASED_ESSAY_TEXT}}
        else:
            assert new == old  # choice answers: a rescore needs them
    assert [c["content"] for c in after["complaints"]] == [selectors.ERASED_COMPLAINT_TEXT]
    # Results keep their numbers.
    assert after["attempts"] == before["attempts"]
    assert after["entries"] == before["entries"]
    assert after["rankings"] == before["rankings"]
    published_after = list(published_rows(ranking=ranking, limit=1000))
    numbers = [(r.position, r.rank, r.unit, r.phone, r.score, r.correct_count, r.duration_ms, r.is_winner, r.prize)
               for r in published_before]
    assert [(r.position, r.rank, r.unit, r.phone, r.score, r.correct_count, r.duration_ms, r.is_winner, r.prize)
            for r in published_after] == numbers
    assert {r.full_name for r in published_after} == {selectors.ERASED_NAME}
    assert {r.birth_year for r in published_after} == {None}
    # The open contest, with a registration of the same citizen, is untouched.
    assert [r["user_id"] for r in open_before["registrations"]] == [before["registrations"][0]["user_id"]]
    assert open_before["registrations"][0]["full_name"] != selectors.ERASED_NAME
    assert snapshot(open_) == open_before
    # Marked and audited with counts, no personal data.
    final.refresh_from_db()
    assert final.personal_data_erased_at is not None
    event = AuditEvent.objects.get(action="contest.personal_data_erased")
    assert (event.target_id, event.organisation_id) == (str(final.pk), final.organisation_id)
    assert (event.data["registrations"], event.data["essays"], event.data["complaints"]) == (8, 8, 1)
    assert "Nguyễn" not in json.dumps(event.data, ensure_ascii=False)
    # Once only.
    assert retention_run() == []
    assert AuditEvent.objects.filter(action="contest.personal_data_erased").count() == 1


def test_a_contest_one_day_short_of_its_retention_is_not_touched(demo):
    final = demo["final"]
    ended = selectors.contests_with_end().get(pk=final.pk).ended_at
    assert retention_run(now=ended + dt.timedelta(days=364)) == []
    assert retention_run(now=ended + dt.timedelta(days=364), dry_run=True) == []
    Contest.objects.filter(pk=final.pk).update(personal_data_retention_days=500)
    assert retention_run(now=timezone.now()) == []
    assert Registration.objects.filter(contest=final, full_name=selectors.ERASED_NAME).count() == 0
    assert [d.contest_id for d in retention_run(now=ended + dt.timedelta(days=500))] == [final.pk]


def test_the_worker_runs_it_every_hour():
    [job] = [job for job in periodic_jobs() if job.name.endswith("anonymise_contests_past_retention")]
    assert job.every_seconds == 3600


@pytest.mark.parametrize(("posted", "stored"), [(None, 365), ("", 365), ("90", 90), ("10", None)])
def test_the_organiser_sets_the_retention_in_the_contest_admin(client, organiser_a, org_a, posted, stored):
    from django.urls import reverse

    from tests.contests.factories import bank
    from tests.contests.test_admin import contest_post

    bank(org_a, 6)
    client.force_login(organiser_a)
    data = contest_post(org_a)
    if posted is not None:
        data["personal_data_retention_days"] = posted
    response = client.post(reverse("admin:contests_contest_add"), data)
    if stored is None:  # below the 30-day minimum (complaints must be answerable)
        assert response.status_code == 200
        assert not Contest.objects.filter(slug="cuoc-thi-moi").exists()
        return
    assert response.status_code == 302
    assert Contest.objects.get(slug="cuoc-thi-moi").personal_data_retention_days == stored


def test_next_years_copy_of_an_anonymised_contest_keeps_the_retention_not_the_mark(demo):
    from contests.services.contests import contest_clone

    final = demo["final"]
    Contest.objects.filter(pk=final.pk).update(personal_data_retention_days=90)
    [done] = retention_run()
    organiser = Membership.objects.filter(organisation_id=final.organisation_id, role=Role.ORGANISER).first().user
    copy = contest_clone(actor=organiser, contest=Contest.objects.get(pk=done.contest_id), months=12)
    assert copy.personal_data_retention_days == 90
    assert copy.personal_data_erased_at is None
