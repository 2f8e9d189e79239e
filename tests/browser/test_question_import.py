"""A question writer imports a Moodle file in the admin (Chromium, vi-VN, phone and desktop): the form and the
preview speak Vietnamese — question types and difficulties by name, never the stored codes."""

from __future__ import annotations

import pytest

from questionbank.models import Question
from tests.browser.conftest import english_left, login
from tests.factories import OrganisationFactory, make_staff

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

GIFT = """::GT01:: Người đi xe máy có phải đội mũ bảo hiểm không? {=Có ~Không}

::GT02:: Tốc độ tối đa trong khu dân cư (km/h)? {#50:2~#Sai: xem Thông tư 38/2024}

::GT03:: Chọn các giấy tờ phải mang theo khi lái xe {~%50%Giấy phép lái xe ~%50%Giấy đăng ký xe ~%-100%Sổ hộ khẩu}
"""


def test_the_import_preview_names_types_and_difficulties(asgi_server, any_page, tmp_path):
    page = any_page
    org = OrganisationFactory(name="Sở Tư pháp (thử)")
    writer = make_staff(org, "writer")
    path = tmp_path / "cau-hoi.gift"
    path.write_text(GIFT, encoding="utf-8")
    login(page, asgi_server, writer.username)
    page.goto(f"{asgi_server}/admin/questionbank/question/import/")
    assert "Tự nhận dạng theo tệp" in page.locator("#id_format").inner_text()
    assert english_left(page, "main") == []
    page.set_input_files("#id_file", str(path))
    page.locator("input[type=submit], button[type=submit]").last.click()
    page.wait_for_load_state()
    preview = page.locator("main").inner_text()
    assert "(GIFT (Moodle))" in preview
    assert "Một lựa chọn đúng" in preview
    assert "Số (có sai số)" in preview
    assert "Nhiều lựa chọn đúng" in preview
    assert "Trung bình" in preview
    assert english_left(page, "main") == []  # no "single", "medium", "numeric"
    page.get_by_role("button", name="Xác nhận nhập 3 câu hỏi").click()
    page.wait_for_load_state()
    assert Question.objects.count() == 3
