"""PDF certificates for the winners of a published ranking."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import AuditEvent
from judging.certificates import certificate_pdf
from judging.services.approval import ranking_approve, ranking_propose, ranking_publish

pytestmark = pytest.mark.django_db


def test_certificate_is_a_one_page_pdf_with_vietnamese_text():
    body = certificate_pdf(contest_title="Cuộc thi tìm hiểu Hiến pháp", round_name="Tuần 1",
                           organisation="Sở Tư pháp thành phố Cần Thơ", full_name="Nguyễn Thị Ánh Tuyết",
                           unit="Phường Ninh Kiều", rank=1, score="10.000")
    assert body.startswith(b"%PDF-")
    assert body.rstrip().endswith(b"%%EOF")
    assert body.count(b"/Type /Page\n") + body.count(b"/Type /Page ") + body.count(b"/Type /Page>") >= 1
    assert b"FontFile2" in body  # an embedded TrueType subset: Vietnamese glyphs are drawn, not substituted


def test_certificates_only_for_winners_of_a_published_ranking(client, ranking, judge_a, organiser_a, organiser_b):
    winner = ranking.entries.filter(is_winner=True).order_by("position").first()
    loser = ranking.entries.filter(is_winner=False).order_by("position").first()
    url = reverse("judging:certificate", kwargs={"ranking_id": ranking.pk, "position": winner.position})
    client.force_login(organiser_a)
    assert client.get(url).status_code == 404  # not published yet
    ranking_propose(actor=judge_a, ranking=ranking)
    ranking_approve(actor=organiser_a, ranking=ranking)
    ranking_publish(actor=organiser_a, ranking=ranking)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert AuditEvent.objects.filter(action="judging.certificate_downloaded").count() == 1
    page = client.get(reverse("judging:round", kwargs={"round_id": ranking.round_id})).content.decode()
    assert url in page
    not_winner = reverse("judging:certificate", kwargs={"ranking_id": ranking.pk, "position": loser.position})
    assert client.get(not_winner).status_code == 404
    client.force_login(organiser_b)
    assert client.get(url).status_code == 404


def _drawn(monkeypatch) -> list[str]:
    """Every string the certificates draw (reportlab's canvas, recorded)."""
    from reportlab.pdfgen.canvas import Canvas

    drawn: list[str] = []
    original = Canvas.drawCentredString

    def record(self, x, y, text, *args, **kwargs):
        drawn.append(text)
        return original(self, x, y, text, *args, **kwargs)

    monkeypatch.setattr(Canvas, "drawCentredString", record)
    return drawn


def test_the_certificate_has_the_official_form(client, monkeypatch, results, judge_a, organiser_a):
    import datetime as dt

    from judging.certificates import document_date
    from judging.models import CertificateSettings
    from leaderboards.services.ranking import ranking_compute
    from tests.judging.conftest import take_to_published

    assert document_date("Cần Thơ", dt.date(2026, 2, 5)) == "Cần Thơ, ngày 05 tháng 02 năm 2026"
    assert document_date("Cần Thơ", dt.date(2026, 12, 15)) == "Cần Thơ, ngày 15 tháng 12 năm 2026"
    ranking = take_to_published(ranking_compute(round=results.round, prizes={"first": 1, "second": 1}), judge_a,
                                organiser_a, without_prizes=False)
    CertificateSettings.objects.create(contest=results.round.contest, superior_body="Ủy ban nhân dân phường thử",
                                       issuing_body="Ban Tổ chức Hội thi", place="Cần Thơ",
                                       signer_title="Trưởng Ban Tổ chức", signer_name="Nguyễn Văn Ký",
                                       number_sign="GCN-BTC")
    drawn = _drawn(monkeypatch)
    client.force_login(organiser_a)
    response = client.get(reverse("judging:certificates", kwargs={"ranking_id": ranking.pk}))
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF-")
    assert response.content.count(b"/Type /Page\n") + response.content.count(b"/Type /Page ") == 2  # one each
    for line in ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc", "ỦY BAN NHÂN DÂN PHƯỜNG THỬ",
                 "BAN TỔ CHỨC HỘI THI", "Số: 01/GCN-BTC", "Số: 02/GCN-BTC", "GIẤY CHỨNG NHẬN", "Đã đạt Giải Nhất",
                 "Đã đạt Giải Nhì", "Điểm: 3", "TRƯỞNG BAN TỔ CHỨC", "Nguyễn Văn Ký", "Trần Thị 0"):
        assert line in drawn, line
    assert not [text for text in drawn if "Đạt hạng" in text or "3.000" in text or "3,000" in text]
    assert any(text.startswith("Cần Thơ, ngày ") for text in drawn)
    # Numbers are kept: the same winner gets the same number the next time.
    drawn.clear()
    winner = ranking.entries.filter(prize="first").get()
    client.get(reverse("judging:certificate", kwargs={"ranking_id": ranking.pk, "position": winner.position}))
    assert "Số: 01/GCN-BTC" in drawn
    assert AuditEvent.objects.filter(action="judging.certificate_downloaded").count() == 2
