"""The round's statistics page (issue 20, point 9): Cronbach's alpha, the test's mean and SD, and every item
index in percent — the same values the contests' statistics compute, shown in Vietnamese number format."""

from __future__ import annotations

import pytest
from django.urls import reverse

from contest_engine.numbers import format_score
from contests.statistics import question_item_statistics, round_test_statistics
from tests.browser.conftest import asgi_server, chromium  # noqa: F401 - the fixtures
from tests.exports.factories import results_round
from tests.factories import make_staff


@pytest.mark.django_db
def test_the_page_shows_the_test_statistics_and_every_index_in_percent(client, judge_a, results):
    client.force_login(judge_a)
    response = client.get(reverse("exports:round_statistics", kwargs={"pk": results.round.pk}))
    assert response.status_code == 200
    html = response.content.decode()
    test = round_test_statistics(round_id=results.round.pk)
    assert f'data-stat="mean">{format_score(test.mean)}<' in html
    assert f'data-stat="sd">{format_score(test.sd)}<' in html
    assert f'data-stat="alpha">{format_score(test.cronbach_alpha)}<' in html
    for item in question_item_statistics(round_id=results.round.pk):
        assert f'data-question="{item.question_id}"' in html
        assert f'data-stat="facility">{format_score(100 * item.facility)}<' in html
    assert "Chỉ số nhóm trên – dưới 27% (%)" in html
    # Linked from the export page.
    page = client.get(reverse("exports:round", kwargs={"pk": results.round.pk})).content.decode()
    assert reverse("exports:round_statistics", kwargs={"pk": results.round.pk}) in page


@pytest.mark.browser
def test_an_organiser_reads_the_statistics_in_the_browser(asgi_server, org_a, chromium):  # noqa: F811 - fixtures
    data = results_round(org_a)
    organiser = make_staff(org_a, "organiser")
    test = round_test_statistics(round_id=data.round.pk)
    page = chromium.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{asgi_server}/accounts/login/")
    page.fill("#id_username", organiser.username)
    page.fill("#id_password", "mat-khau-an-toan-1")
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_load_state()
    page.goto(f"{asgi_server}/exports/round/{data.round.pk}/")
    page.get_by_role("link", name="Thống kê câu hỏi và đề thi").click()
    page.wait_for_selector("table.statistics")
    assert page.locator("h1").inner_text() == "Thống kê câu hỏi và đề thi"
    assert page.locator('dd[data-stat="alpha"]').inner_text() == format_score(test.cronbach_alpha)
    assert page.locator('dd[data-stat="mean"]').inner_text() == format_score(test.mean)
    assert page.locator("table.statistics tbody tr").count() == len(data.questions)
    headers = page.locator("table.statistics th").all_inner_texts()
    assert [h for h in headers if "%" in h] == ["Độ dễ (%)", "Độ lệch chuẩn (%)", "Chỉ số phân biệt (%)",
                                                "Hiệu quả phân biệt (%)", "Chỉ số nhóm trên – dưới 27% (%)"]
    page.close()
