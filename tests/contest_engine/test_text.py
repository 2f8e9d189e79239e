"""ASCII slugs of Vietnamese titles (contest_engine/text.py): every letter transliterated, đ → d."""

from __future__ import annotations

import pytest

from contest_engine.text import slugify_vi


@pytest.mark.parametrize(("title", "slug"), [
    ("Tìm hiểu Luật Giao thông đường bộ 2026", "tim-hieu-luat-giao-thong-duong-bo-2026"),
    ("ĐẶNG THỊ Ửng — Phường Ô Môn", "dang-thi-ung-phuong-o-mon"),
    ("Cuộc thi “Pháp luật với mọi người” (đợt 1)", "cuoc-thi-phap-luat-voi-moi-nguoi-dot-1"),
    ("Xã Hỏa Lựu, Thới Lai; Ngã Bảy", "xa-hoa-luu-thoi-lai-nga-bay"),
    ("ẳẵặ ếềểễệ ốồổỗộ ớờởỡợ ứừửữự ỳýỷỹỵ", "aaa-eeeee-ooooo-ooooo-uuuuu-yyyyy"),
])
def test_vietnamese_titles_are_transliterated(title, slug):
    assert slugify_vi(title) == slug


def test_max_length_does_not_end_on_a_hyphen():
    assert slugify_vi("Tìm hiểu Luật", max_length=9) == "tim-hieu"
