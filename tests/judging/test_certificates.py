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
