"""An organiser types a round's dates the Vietnamese way (day first) in the admin, on a phone and on a desktop."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from contests.models import Round
from tests.browser.conftest import login
from tests.contests.factories import ContestFactory, RoundFactory, bank
from tests.factories import OrganisationFactory, make_staff

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_round_dates_are_typed_day_first(asgi_server, any_page):
    page = any_page
    org = OrganisationFactory(name="Sở Tư pháp (thử)")
    bank(org, 6)
    organiser = make_staff(org, "organiser")
    contest = ContestFactory(organisation=org)
    round = RoundFactory(contest=contest, name="Tuần 1", opens_at=timezone.now() + dt.timedelta(days=30),
                         closes_at=timezone.now() + dt.timedelta(days=40))
    login(page, asgi_server, organiser.username)
    page.goto(f"{asgi_server}/admin/contests/round/{round.pk}/change/")
    help_text = page.locator(".field-closes_at .help").inner_text()
    assert "giờ Việt Nam (UTC+07:00)" in help_text
    # The stored value is shown day first, in Vietnam time.
    shown = timezone.localtime(round.opens_at)
    assert page.input_value("#id_opens_at_0") == shown.strftime("%d/%m/%Y")
    page.fill("#id_opens_at_0", "01/12/2026")
    page.fill("#id_opens_at_1", "08:00")
    page.fill("#id_closes_at_0", "03/12/2026")
    page.fill("#id_closes_at_1", "14:30")
    page.locator("input[name=_save]").click()
    page.wait_for_load_state()
    assert page.locator(".errornote").count() == 0, page.locator("#content").inner_text()
    round = Round.objects.get(pk=round.pk)
    closes = timezone.localtime(round.closes_at)
    assert (closes.day, closes.month, closes.year, closes.hour, closes.minute) == (3, 12, 2026, 14, 30)
    opens = timezone.localtime(round.opens_at)
    assert (opens.day, opens.month, opens.hour) == (1, 12, 8)
    # The changelist shows them the same way.
    page.goto(f"{asgi_server}/admin/contests/round/")
    assert "03/12/2026 14:30" in page.locator("#result_list").inner_text()


def test_a_round_closed_by_a_mistyped_date_is_reopened_from_its_page(asgi_server, any_page):
    from leaderboards.models import RankingStatus, RoundRanking
    from leaderboards.services.ranking import round_close

    page = any_page
    org = OrganisationFactory(name="Sở Tư pháp (thử)")
    bank(org, 6)
    organiser = make_staff(org, "organiser")
    contest = ContestFactory(organisation=org)
    now = timezone.now()
    round = RoundFactory(contest=contest, name="Tuần 1", opens_at=now - dt.timedelta(hours=3),
                         closes_at=now - dt.timedelta(hours=1))
    round_close(round=round, now=now)
    login(page, asgi_server, organiser.username)
    page.goto(f"{asgi_server}/admin/contests/round/{round.pk}/change/")
    corrected = timezone.localtime(now + dt.timedelta(days=3)).replace(second=0, microsecond=0)
    page.fill("#id_closes_at_0", corrected.strftime("%d/%m/%Y"))
    page.fill("#id_closes_at_1", corrected.strftime("%H:%M"))
    page.locator("input[name=_save]").click()
    page.wait_for_load_state()
    warning = page.locator(".messagelist .warning")
    assert "vẫn đóng" in warning.inner_text()
    warning.get_by_role("link", name="Mở lại đợt thi (ghi lý do)").click()
    page.wait_for_load_state()
    assert "Đã chốt (xếp hạng chính thức)" in page.locator("#closed-at").inner_text()
    # Prefilled with the corrected close; a time before it is refused on the field, saying why.
    assert page.input_value("#id_until") == corrected.strftime("%Y-%m-%dT%H:%M")
    page.fill("#id_until", (corrected - dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"))
    page.fill("#id_reason", "Nhập nhầm ngày kết thúc")
    page.get_by_role("button", name="Xác nhận").click()
    page.wait_for_load_state()
    error = page.locator(".field-until .errorlist, #id_until_error, .errorlist").first.inner_text()
    assert "mở lại đến thời điểm đó hoặc muộn hơn" in error
    assert page.input_value("#id_reason") == "Nhập nhầm ngày kết thúc"
    page.fill("#id_until", corrected.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Xác nhận").click()
    page.wait_for_load_state()
    assert "Đã gia hạn / mở lại" in page.locator(".messagelist").inner_text()
    round.refresh_from_db()
    assert round.closed_at is None
    # Once the results are published the page says why it cannot be reopened and what to do instead.
    round.closes_at = now - dt.timedelta(minutes=30)
    round.save()
    ranking = round_close(round=round, now=now)
    RoundRanking.objects.filter(pk=ranking.pk).update(status=RankingStatus.PUBLISHED)
    page.goto(f"{asgi_server}/admin/contests/round/{round.pk}/extend/")
    refused = page.locator("#refused").inner_text()
    assert "đã được công bố" in refused
    assert "Tính lại kết quả" in refused
    assert page.locator("#id_until").count() == 0
