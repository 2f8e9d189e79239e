"""The public list of a published result: when and by whom, counts and scores in the Vietnamese number rule,
printing on A4 landscape."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from contests.models import Attempt
from leaderboards.services.ranking import ranking_compute
from tests.judging.conftest import take_to_published

pytestmark = pytest.mark.django_db


def test_the_public_list_says_when_and_by_whom_and_shows_numbers_the_vietnamese_way(
        client, results, judge_a, organiser_a):
    first = results.attempts[0]
    Attempt.objects.filter(pk=first.pk).update(score=Decimal("7.500"))
    Attempt.objects.filter(pk=results.attempts[3].pk).update(correct_count=0, score=Decimal("0"))
    ranking = take_to_published(ranking_compute(round=results.round, prize_places=1), judge_a, organiser_a)
    html = client.get(reverse("judging:published", kwargs={"round_id": results.round.pk})).content.decode()
    day = timezone.localtime(ranking.published_at).strftime("%d/%m/%Y")
    assert f"<dt>Ngày công bố</dt><dd>{day}</dd>" in html
    assert organiser_a.get_full_name() in html  # the approver
    assert '<td class="num">7,5</td>' in html  # no trailing zeros, decimal comma
    assert "7.500" not in html
    assert '<td class="num">0</td>' in html  # a count of 0 is shown as 0, not left blank
    assert 'href="/static/css/judging.css"' in html
