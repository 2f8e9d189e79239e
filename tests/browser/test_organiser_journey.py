"""The issue's acceptance path, in Chromium (vi-VN) on a 360-px phone and on a desktop: an organiser goes from the
login to a published ranking and an exported workbook using only menus and forms — creating the contest and its
round, a judge proposing the ranking, the organiser approving, publishing and exporting. The citizens' attempts
and the passing of time (the round's close, the export worker) happen outside the browser."""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from accounts.models import Organisation, OrganisationKind
from contests.models import Contest, ContestVisibility, Round
from contests.services.attempts.answers import attempt_answer
from contests.services.attempts.finish import attempt_submit
from contests.services.attempts.start import attempt_start
from tests.browser.conftest import english_left, login, page_fits
from tests.contests.factories import bank, register
from tests.factories import CitizenProfileFactory, OrganisationFactory, make_staff

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def menu(page, label: str) -> None:
    nav = page.locator("nav.staff-menu").first
    if not nav.locator("details").get_attribute("open"):
        nav.locator("summary").click()
    nav.get_by_role("link", name=label, exact=True).click()
    page.wait_for_load_state()


def test_from_login_to_a_published_ranking_and_a_workbook(asgi_server, any_page):
    from exports.models import ExportJob
    from exports.services import export_job_run
    from leaderboards.services.ranking import round_close

    page = any_page
    org = OrganisationFactory(name="Sở Tư pháp (thử)", kind=OrganisationKind.DEPARTMENT, is_unit=False)
    ward = Organisation.objects.create(name="Phường Ninh Kiều (thử)", slug="ninh-kieu-thu", kind=OrganisationKind.WARD)
    bank(org, 8)
    organiser = make_staff(org, "organiser", full_name="Trần Thị Tổ Chức")
    judge = make_staff(org, "judge", full_name="Lê Văn Giám Khảo")

    # 1. The organiser creates the contest with its defaults and a title, by menu.
    login(page, asgi_server, organiser.username)
    menu(page, "Cuộc thi")
    page.locator(".object-tools a.addlink").click()  # "Thêm cuộc thi"
    page.wait_for_load_state()
    page.fill("#id_title", "Tìm hiểu Luật Giao thông đường bộ 2026")
    page.select_option("#id_visibility", "published")
    page.fill("#blueprint-0-count", "5")
    # …and its round, in the contest's own form (dates typed day first).
    page.locator(".add-row a").click()  # the admin's "Thêm một Đợt thi" (a role=button link)
    today = timezone.localtime()
    tomorrow = today + dt.timedelta(days=1)
    page.fill("#id_rounds-0-name", "Tuần 1")
    page.fill("#id_rounds-0-opens_at_0", today.strftime("%d/%m/%Y"))
    page.fill("#id_rounds-0-opens_at_1", "00:00")
    page.fill("#id_rounds-0-closes_at_0", tomorrow.strftime("%d/%m/%Y"))
    page.fill("#id_rounds-0-closes_at_1", "23:00")
    page.locator("input[name=_save]").click()
    page.wait_for_load_state()
    assert page.locator(".errornote").count() == 0, page.locator("#content").inner_text()[:2000]
    contest = Contest.objects.get()
    assert (contest.slug, contest.visibility) == ("tim-hieu-luat-giao-thong-duong-bo-2026", ContestVisibility.PUBLISHED)
    round = Round.objects.get(contest=contest)
    assert timezone.localtime(round.closes_at).date() == tomorrow.date()

    # 2. Citizens take the round; then it closes and is ranked (the close job).
    start = timezone.now()
    for i in range(3):
        user = CitizenProfileFactory(unit=ward).user
        register(user, contest)
        attempt = attempt_start(user=user, round=round, now=start)
        for q in attempt.questions.all()[: 5 - i]:
            right = max(q.key["options"], key=lambda oid: float(q.key["options"][oid]))
            attempt_answer(attempt_id=attempt.pk, user_id=user.pk, position=q.position,
                           response={"options": [int(right)]}, client_seq=q.position, now=start)
        attempt_submit(attempt=attempt, now=start + dt.timedelta(seconds=40 + i))
    Round.objects.filter(pk=round.pk).update(closes_at=timezone.now() - dt.timedelta(minutes=3))
    round_close(round=Round.objects.get(pk=round.pk))

    # 3. The judge proposes the official ranking, by menu.
    page.context.clear_cookies()
    login(page, asgi_server, judge.username)
    menu(page, "Chấm thi và phê duyệt")
    page.get_by_role("link", name=re.compile("Tuần 1")).first.click()
    page.wait_for_load_state()
    page.get_by_role("button", name="Đề xuất kết quả").click()
    page.wait_for_load_state()
    assert "Đã đề xuất" in page.locator("main").inner_text()

    # 4. The organiser approves and publishes, then exports the workbook — by menu.
    page.context.clear_cookies()
    login(page, asgi_server, organiser.username)
    menu(page, "Chấm thi và phê duyệt")
    page.get_by_role("link", name=re.compile("Tuần 1")).first.click()
    page.wait_for_load_state()
    for review, confirmation in (("Xem lại và phê duyệt", "Xác nhận phê duyệt"),
                                 ("Xem lại và công bố", "Xác nhận công bố")):
        page.get_by_role("button", name=re.compile(review)).click()
        page.wait_for_load_state()
        no_prizes = page.get_by_label(re.compile("không có người đoạt giải"))
        if no_prizes.count():  # this round gives no prizes: the organiser says so to publish
            no_prizes.check()
        page.get_by_role("button", name=confirmation).click()
        page.wait_for_load_state()
    assert "Đã công bố" in page.locator("main").inner_text()
    assert page_fits(page)
    menu(page, "Bảng xếp hạng")
    page.get_by_role("link", name="Kết quả chính thức").click()
    page.wait_for_load_state()
    assert "Phiên bản 1 (Đã công bố)" in page.locator("main").inner_text()
    assert len(page.locator("table.leaderboard").last.locator("tbody tr").all()) == 3
    assert english_left(page, "main") == []
    menu(page, "Xuất kết quả")
    page.get_by_role("link", name="Xuất kết quả đợt thi (Excel)").click()
    page.wait_for_load_state()
    page.get_by_role("button", name="Xuất dữ liệu").click()
    page.wait_for_load_state()
    export_job_run(job_id=ExportJob.objects.get().pk)  # the worker
    link = page.locator("#export-download-link")
    link.wait_for(state="visible", timeout=20_000)
    with page.expect_download() as download:
        link.click()
    book = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()), read_only=True)
    ranking = [[c.value for c in row] for row in book["Xếp hạng"].iter_rows()]
    header = ranking[0]
    assert len(ranking) == 4
    assert {row[header.index("Trạng thái kết quả")] for row in ranking[1:]} == {"Chính thức (đã công bố)"}
    assert page_fits(page)
