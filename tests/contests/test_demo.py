from __future__ import annotations

import io

import pytest

from contests.demo import CONTEST_SLUG, load
from contests.models import Contest, Round
from contests.services.attempts.start import attempt_start
from contests.services.registrations import registration_create
from questionbank.models import Question
from tests.factories import CitizenProfileFactory, OrganisationFactory

pytestmark = pytest.mark.django_db


def test_demo_contest_is_open_and_idempotent():
    OrganisationFactory(slug="can-tho-so-tu-phap", name="Sở Tư pháp (thử)")
    load(io.StringIO())
    load(io.StringIO())
    contest = Contest.objects.get(slug=CONTEST_SLUG)
    assert Contest.objects.count() == 1
    assert Round.objects.filter(contest=contest).count() == 1
    assert Question.objects.count() == 12
    user = CitizenProfileFactory().user
    registration_create(user=user, contest=contest)
    attempt = attempt_start(user=user, round=contest.rounds.get())
    assert attempt.question_count == 10
    assert attempt.round.settings.prediction_enabled
    assert attempt.round.settings.time_limit_seconds == 900
