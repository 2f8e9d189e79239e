"""ASCII slugs of Vietnamese titles (contest_engine/text.py): every letter transliterated, đ → d."""

from __future__ import annotations

import random

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


def test_vietnamese_alphabetical_order():
    from contest_engine.text import vietnamese_sort_key

    expected = ["An Bình", "Anh Dũng", "Ấp Bắc", "Bình Thủy", "Cái Răng", "Dĩ An", "Đầm Dơi", "Ô Môn", "Ơn Nghĩa",
                "Phường 2", "Phường 10", "Thới An", "Thới Lai", "Ửng Hòa"]
    shuffled = random.Random(7).sample(expected, len(expected))
    assert sorted(shuffled, key=vietnamese_sort_key) == expected
    assert sorted(expected) != expected  # binary (database "C") order is not Vietnamese order


def test_tones_are_a_secondary_difference_in_dictionary_order():
    from contest_engine.text import vietnamese_sort_key

    tones = ["ma", "mà", "mả", "mã", "má", "mạ"]
    assert sorted(random.Random(7).sample(tones, len(tones)), key=vietnamese_sort_key) == tones
    # The letters come first: "mạ" (a + dot) sorts before "mă" (another letter).
    assert sorted(["mă", "mạ"], key=vietnamese_sort_key) == ["mạ", "mă"]
