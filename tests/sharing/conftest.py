from __future__ import annotations

import datetime as dt
import io

import pytest
from django.utils import timezone

from tests.contests.factories import ContestFactory, RoundFactory

PUBLIC_BASE = "https://thi.example.gov.vn"


@pytest.fixture(autouse=True)
def _public_base_url(settings):
    settings.PUBLIC_BASE_URL = PUBLIC_BASE


def local(*args: int) -> dt.datetime:
    return timezone.make_aware(dt.datetime(*args))


@pytest.fixture
def contest_a(org_a):
    """A published contest of A with two rounds: 1 March 2026 08:00 to 31 March 2026 17:00 (local time)."""
    contest = ContestFactory(organisation=org_a, title="Cuộc thi tìm hiểu Hiến pháp năm 2026", slug="hien-phap-2026",
                             summary="Dành cho mọi công dân từ 15 tuổi trên địa bàn thành phố.")
    RoundFactory(contest=contest, name="Tuần 1", position=1, opens_at=local(2026, 3, 1, 8, 0),
                 closes_at=local(2026, 3, 15, 17, 0))
    RoundFactory(contest=contest, name="Tuần 2", position=2, opens_at=local(2026, 3, 16, 8, 0),
                 closes_at=local(2026, 3, 31, 17, 0))
    return contest


@pytest.fixture
def draft_a(org_a):
    contest = ContestFactory(organisation=org_a, title="Cuộc thi nháp bí mật", slug="nhap-bi-mat", visibility="draft")
    RoundFactory(contest=contest, opens_at=local(2026, 5, 1, 8, 0), closes_at=local(2026, 5, 10, 17, 0))
    return contest


def decode_qr(png: bytes) -> list[str]:
    """The texts of every QR code in a PNG (zxing-cpp, a decoder independent of the encoder)."""
    import zxingcpp
    from PIL import Image

    return [result.text for result in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)).convert("L"))]
