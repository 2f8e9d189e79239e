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
