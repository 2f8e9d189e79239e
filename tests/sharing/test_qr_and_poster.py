"""The QR codes decode to the short link (zxing-cpp); the A4 poster says the contest's name and dates (read back
with pypdf) and carries the same code; only the contest's own organisers get them."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse

from sharing.qr import qr_draw
from sharing.selectors import short_url
from sharing.services import share_link_get_or_create
from tests.factories import CitizenProfileFactory, make_staff
from tests.sharing.conftest import PUBLIC_BASE, decode_qr

pytestmark = pytest.mark.django_db


def _text(pdf: bytes) -> str:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def test_the_png_qr_code_decodes_to_the_short_link(client, organiser_a, contest_a):
    client.force_login(organiser_a)
    response = client.get(reverse("sharing:qr_png", kwargs={"contest_id": contest_a.pk}))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    link = share_link_get_or_create(contest=contest_a)
    assert decode_qr(response.content) == [f"{PUBLIC_BASE}/c/{link.code}/"]


def test_qr_downloads_are_files(client, organiser_a, contest_a):
    client.force_login(organiser_a)
    svg = client.get(reverse("sharing:qr_svg", kwargs={"contest_id": contest_a.pk}), {"download": "1"})
    assert svg["Content-Type"] == "image/svg+xml"
    assert svg["Content-Disposition"] == 'attachment; filename="hien-phap-2026-qr.svg"'
    assert svg.content.startswith(b"<svg")
    png = client.get(reverse("sharing:qr_png", kwargs={"contest_id": contest_a.pk}), {"download": "1"})
    assert png["Content-Disposition"] == 'attachment; filename="hien-phap-2026-qr.png"'


def test_without_a_public_base_url_the_link_takes_the_request_host(client, settings, organiser_a, contest_a):
    settings.PUBLIC_BASE_URL = ""
    client.force_login(organiser_a)
    response = client.get(reverse("sharing:qr_png", kwargs={"contest_id": contest_a.pk}))
    link = share_link_get_or_create(contest=contest_a)
    assert decode_qr(response.content) == [f"http://testserver/c/{link.code}/"]


class _RecordingCanvas:
    """Records the rectangles ``qr_draw`` fills, to paint them again as an image."""

    def __init__(self) -> None:
        self.rects: list[tuple[float, float, float, float, tuple]] = []
        self.colour: tuple = (0, 0, 0)

    def saveState(self) -> None: ...  # reportlab's method names
    def restoreState(self) -> None: ...

    def setFillColorRGB(self, r: float, g: float, b: float) -> None:
        self.colour = (r, g, b)

    def rect(self, x: float, y: float, w: float, h: float, stroke: int = 1, fill: int = 0) -> None:
        self.rects.append((x, y, w, h, self.colour))


def test_the_poster_qr_code_as_drawn_decodes_to_the_link():
    """The poster draws the code as vector rectangles; painted back onto a bitmap they must decode."""
    from PIL import Image, ImageDraw

    url = f"{PUBLIC_BASE}/c/abcd2345/"
    canvas = _RecordingCanvas()
    qr_draw(canvas, url=url, x=100, y=200, size=250)
    image = Image.new("L", (500, 500), 255)
    draw = ImageDraw.Draw(image)
    for x, y, w, h, colour in canvas.rects:
        # PDF y grows upwards, the image's downwards.
        draw.rectangle((x, 500 - (y + h), x + w, 500 - y), fill=0 if colour == (0, 0, 0) else 255)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    assert decode_qr(buffer.getvalue()) == [url]


def test_the_poster_is_an_a4_pdf_with_the_contest_name_dates_and_link(client, organiser_a, contest_a):
    client.force_login(organiser_a)
    response = client.get(reverse("sharing:poster", kwargs={"contest_id": contest_a.pk}))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'inline; filename="hien-phap-2026-ap-phich.pdf"'
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(response.content))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4 portrait
    text = _text(response.content)
    assert "Cuộc thi tìm hiểu Hiến pháp năm 2026" in text
    assert "Từ 08:00 ngày 01/03/2026 đến 17:00 ngày 31/03/2026" in text
    assert "Tuần 1: 08:00 01/03/2026 – 17:00 15/03/2026" in text
    assert "Tuần 2: 08:00 16/03/2026 – 17:00 31/03/2026" in text
    assert contest_a.organisation.name.upper() in text
    link = share_link_get_or_create(contest=contest_a)
    assert f"thi.example.gov.vn/c/{link.code}/" in text
    assert reader.metadata.title == contest_a.title


def test_an_extended_round_moves_the_posters_end_date(client, organiser_a, contest_a):
    from tests.sharing.conftest import local

    last = contest_a.rounds.order_by("-position").first()
    last.extended_until = local(2026, 4, 2, 20, 0)
    last.save()
    client.force_login(organiser_a)
    text = _text(client.get(reverse("sharing:poster", kwargs={"contest_id": contest_a.pk})).content)
    assert "đến 20:00 ngày 02/04/2026" in text


def test_a_draft_has_a_poster_for_its_own_organisers(client, organiser_a, draft_a):
    client.force_login(organiser_a)
    response = client.get(reverse("sharing:poster", kwargs={"contest_id": draft_a.pk}))
    assert response.status_code == 200
    assert "Cuộc thi nháp bí mật" in _text(response.content)
    panel = client.get(reverse("sharing:panel", kwargs={"contest_id": draft_a.pk}))
    assert panel.status_code == 200
    assert 'id="share-draft"' in panel.content.decode()


STAFF_VIEWS = ["sharing:panel", "sharing:poster", "sharing:qr_svg", "sharing:qr_png", "sharing:staff_card"]


@pytest.mark.parametrize("name", STAFF_VIEWS)
def test_organisers_of_another_organisation_get_404(client, org_b, organiser_a, draft_a, contest_a, name):
    """Organiser (and every other role) of B: neither A's draft nor A's published contest, exactly like a
    contest that does not exist."""
    from accounts.models import Role

    foreign = make_staff(org_b, *Role.values)
    client.force_login(foreign)
    for contest in (draft_a, contest_a):
        assert client.get(reverse(name, kwargs={"contest_id": contest.pk})).status_code == 404
    assert client.get(reverse(name, kwargs={"contest_id": 10**12})).status_code == 404
    # Positive control: A's organiser gets it.
    client.force_login(organiser_a)
    assert client.get(reverse(name, kwargs={"contest_id": draft_a.pk})).status_code == 200


@pytest.mark.parametrize("name", STAFF_VIEWS)
def test_judges_citizens_and_visitors_get_no_share_tools(client, org_a, draft_a, name):
    url = reverse(name, kwargs={"contest_id": draft_a.pk})
    assert client.get(url).status_code == 302  # to the login page
    client.force_login(make_staff(org_a, "judge"))
    assert client.get(url).status_code == 404
    client.force_login(CitizenProfileFactory(unit=org_a).user)
    assert client.get(url).status_code == 404


def test_the_share_list_shows_only_the_organisers_own_contests(client, organiser_a, organiser_b, contest_a, draft_a):
    client.force_login(organiser_b)
    body = client.get(reverse("sharing:list")).content.decode()
    assert contest_a.title not in body
    assert draft_a.title not in body
    client.force_login(organiser_a)
    body = client.get(reverse("sharing:list")).content.decode()
    assert contest_a.title in body
    assert draft_a.title in body
    assert reverse("sharing:panel", kwargs={"contest_id": draft_a.pk}) in body
    client.force_login(CitizenProfileFactory().user)
    assert client.get(reverse("sharing:list")).status_code == 403


def test_the_panel_shows_the_link_qr_and_downloads(client, organiser_a, contest_a):
    client.force_login(organiser_a)
    body = client.get(reverse("sharing:panel", kwargs={"contest_id": contest_a.pk})).content.decode()
    link = short_url(link=share_link_get_or_create(contest=contest_a))
    assert f'value="{link}"' in body
    for name in ("sharing:qr_svg", "sharing:qr_png", "sharing:poster", "sharing:staff_card"):
        assert reverse(name, kwargs={"contest_id": contest_a.pk}) in body
    assert 'id="share-draft"' not in body
    assert "<script>" not in body  # the copy button is static/js/share.js


def test_the_contest_admin_page_links_to_the_share_panel(client, organiser_a, contest_a):
    client.force_login(organiser_a)
    body = client.get(reverse("admin:contests_contest_change", args=[contest_a.pk])).content.decode()
    assert reverse("sharing:panel", kwargs={"contest_id": contest_a.pk}) in body
