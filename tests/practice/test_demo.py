"""make demo shows a practice area (the open demo round's topics reserved, the others practicable, a mock exam)
and one demo survey with results."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from practice import selectors
from practice.models import PracticeSession
from surveys.models import Survey
from surveys.selectors import survey_results

pytestmark = pytest.mark.django_db


def test_demo_has_a_practice_area_and_a_survey():
    call_command("load_demo", stdout=StringIO())
    now = timezone.now()
    topics = {t.topic.name: t.available for t in selectors.practice_topics(now=now)}
    assert topics["Luật Trật tự, an toàn giao thông đường bộ"] == 0  # the open demo round draws from it
    assert topics["Hôn nhân và gia đình"] == 0
    assert topics["Bộ luật Dân sự"] > 5
    assert [r.contest.slug for r in selectors.mock_rounds(now=now)] == ["demo-tim-hieu-bo-luat-dan-su"]
    assert PracticeSession.objects.filter(user__phone="0912345678").count() == 3
    survey = Survey.objects.get(title__startswith="Khảo sát nhu cầu")
    assert survey.is_open(now)
    assert survey_results(survey=survey)["total"] == 24
