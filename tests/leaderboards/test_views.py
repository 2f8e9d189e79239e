"""Leaderboard pages: public board masked (never phone or ID numbers), official ranking only once
published (staff see drafts and the diff), unit dashboard scoped to the owning organisation."""

from __future__ import annotations

import pytest
from django.urls import reverse

from leaderboards.models import RankingStatus, RoundRanking
from leaderboards.selectors import unit_stats
from leaderboards.services.ranking import round_close
from leaderboards.visibility import display_name
from tests.factories import make_staff

pytestmark = pytest.mark.django_db


def test_display_name_masks_all_but_the_family_name():
    assert display_name("Nguyễn  Văn An", masked=True) == "Nguyễn V. A."
    assert display_name("Nguyễn Văn An", masked=False) == "Nguyễn Văn An"
    assert display_name("An", masked=True) == "A."


def test_public_board_page(client, memory_lb, people, lb_round):
    a = people.attempt(1, score="9")
    people.registration(1).user.refresh_from_db()
    reg = people.regs[1]
    reg.national_id = "012345678901"
    reg.save()
    response = client.get(reverse("leaderboards:round", args=[lb_round.pk]))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Nguyễn V. T. S. 1." in body
    assert "Nguyễn Văn Thí Sinh 1" not in body
    assert a.user.phone not in body
    assert "012345678901" not in body
    assert f"/ws/leaderboards/{lb_round.pk}/" in body


def test_official_ranking_only_when_published(client, memory_lb, people, lb_round, org_a):
    people.attempt(1, score="9")
    ranking = round_close(round=lb_round)
    url = reverse("leaderboards:official", args=[lb_round.pk])
    assert client.get(url).status_code == 404
    judge = make_staff(org_a, "judge")
    client.force_login(judge)
    staff_page = client.get(url).content.decode()
    assert "Nguyễn Văn Thí Sinh 1" in staff_page
    client.logout()
    RoundRanking.objects.filter(pk=ranking.pk).update(status=RankingStatus.PUBLISHED)
    public = client.get(url).content.decode()
    assert "Nguyễn V. T. S. 1." in public
    assert people.regs[1].user.phone not in public


def test_unit_dashboard_scoped_and_charted(client, memory_lb, people, lb_round, org_a, org_b):
    people.attempt(1, score="9", unit=0)
    people.attempt(2, score="5", unit=0)
    people.attempt(2, score="6", unit=0)
    people.attempt(3, score="1", unit=1)
    stats = {s.unit_id: s for s in unit_stats(contest=lb_round.contest, round=lb_round)}
    first = stats[people.units[0].pk]
    assert (first.entrants, first.attempts, first.population, first.rate_percent) == (2, 3, 100, 2.0)
    url = reverse("leaderboards:units", args=[lb_round.pk])
    client.force_login(make_staff(org_b, "organiser"))
    assert client.get(url).status_code == 404  # another organisation's round
    client.force_login(make_staff(org_a, "organiser"))
    page = client.get(url).content.decode()
    assert "bar-fill" in page
    assert people.units[0].name in page
    # The number rule: no trailing zeros, Vietnamese decimal comma (contest_engine/numbers.py).
    # A labelled cell: the table is cards on a phone.
    assert '<td data-label="Tỉ lệ tham gia" data-f="rate">2%</td>' in page


def test_contest_ranking_page_for_staff(client, memory_lb, people, lb_round, org_a):
    people.attempt(1, score="9")
    round_close(round=lb_round)
    url = reverse("leaderboards:contest", args=[lb_round.contest.slug])
    public = client.get(url).content.decode()  # nothing published yet: the page says why it is empty
    assert "Nguyễn" not in public
    assert "Chưa có đợt thi nào được công bố kết quả chính thức" in public
    assert "kết quả chưa được công bố" in public
    client.force_login(make_staff(org_a, "organiser"))
    page = client.get(url).content.decode()
    assert "Nguyễn Văn Thí Sinh 1" in page
    assert 'id="contest-provisional"' in page  # staff see it before publication, marked provisional


def test_contest_ranking_counts_published_rounds_and_says_which(client, memory_lb, people, lb_round, org_a):
    """The contest board totals the rounds' official results — for the public the published ones so far — and
    lists every round with why it does or does not count (a live round's board had entries while this said
    "Chưa có kết quả")."""
    import datetime as dt

    from django.utils import timezone

    from leaderboards.models import RankingStatus
    from tests.contests.factories import RoundFactory

    people.attempt(1, score="9")
    ranking = round_close(round=lb_round)
    now = timezone.now()
    live_round = RoundFactory(contest=lb_round.contest, name="Tuần đang mở", opens_at=now - dt.timedelta(hours=1),
                              closes_at=now + dt.timedelta(days=1))
    people.attempt(2, score="10", round=live_round)
    url = reverse("leaderboards:contest", args=[lb_round.contest.slug])
    ranking.status = RankingStatus.PUBLISHED
    ranking.save(update_fields=["status"])
    page = client.get(url).content.decode()
    assert "Nguyễn V. T. S. 1." in page  # the published round counts
    assert "Nguyễn V. T. S. 2." not in page  # the open round does not (yet)
    assert "đang diễn ra — chưa tính, xem bảng xếp hạng trực tiếp" in page
    assert reverse("leaderboards:round", args=[live_round.pk]) in page


def test_contest_unit_dashboard(client, memory_lb, people, lb_round, org_a, org_b):
    people.attempt(1, score="9", unit=0)
    url = reverse("leaderboards:contest_units", args=[lb_round.contest.slug])
    client.force_login(make_staff(org_b, "judge"))
    assert client.get(url).status_code == 404
    client.force_login(make_staff(org_a, "judge"))
    page = client.get(url).content.decode()
    assert people.units[0].name in page
    assert "toàn cuộc thi" in page


def test_dashboard_lists_only_own_rounds(client, memory_lb, lb_round, org_a, org_b):
    client.force_login(make_staff(org_b, "organiser"))
    assert lb_round.name not in client.get(reverse("leaderboards:dashboard")).content.decode()
    client.force_login(make_staff(org_a, "organiser"))
    assert lb_round.name in client.get(reverse("leaderboards:dashboard")).content.decode()


def test_the_official_page_names_the_prediction_target_in_vietnamese(client, memory_lb, people, lb_round, org_a):
    people.attempt(1, score="9", prediction=3)
    round_close(round=lb_round)
    client.force_login(make_staff(org_a, "organiser"))
    page = client.get(reverse("leaderboards:official", args=[lb_round.pk])).content.decode()
    assert "(Số lượt thi trả lời đúng tất cả câu hỏi)" in page
    assert "perfect_attempts" not in page
