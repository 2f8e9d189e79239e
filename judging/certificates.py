"""PDF certificates (giấy chứng nhận) for the winners of a published ranking, drawn with reportlab (BSD).

The page follows the form of a Vietnamese administrative document (Nghị định 30/2020/NĐ-CP, Phụ lục I):
the superior body and the issuing body top left with the certificate number under them, the national name
and motto top right ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" / "Độc lập - Tự do - Hạnh phúc", underlined), the
title, the winner, the prize by name ("Giải Nhất"…), the contest and round, the score in Vietnamese number
format (contest_engine.numbers), then "<place>, ngày … tháng … năm …" and the signer's title with room for the
signature and the seal above the signer's name. Numbers are given once per contest and winner of a round
(``Certificate``) and kept when the certificate is produced again.

Vietnamese needs a TrueType font with its glyphs: DejaVu Serif / Sans (Debian's fonts-dejavu-core, which
LibreOffice and fontconfig pull in) or Liberation, or the file named by ``settings.CERTIFICATE_FONT``.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from accounts.models import OrganisationKind
from accounts.services import audit_record
from contest_engine.numbers import format_score
from contests.models import Contest
from judging.models import Certificate, CertificateSettings
from leaderboards.models import RankingEntry

FONT_CANDIDATES = (
    ("/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSerif-Bold.ttf"),
    ("/usr/share/fonts/truetype/liberation/LiberationSerif-Regular.ttf",
     "/usr/share/fonts/truetype/liberation/LiberationSerif-Bold.ttf"),
    ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
    ("/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
     "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf"),
)
PRIZE_NAMES = {"first": "Giải Nhất", "second": "Giải Nhì", "third": "Giải Ba", "encouragement": "Giải Khuyến khích"}


class CertificateFontMissing(RuntimeError):
    pass


def font_files() -> tuple[str, str]:
    """The regular and bold TrueType files with Vietnamese glyphs: ``settings.CERTIFICATE_FONT`` if set, else
    the first of ``FONT_CANDIDATES`` installed. Shared by every PDF and image the project draws (sharing's
    posters and preview cards)."""
    configured = getattr(settings, "CERTIFICATE_FONT", "")
    candidates = [(configured, configured)] if configured else list(FONT_CANDIDATES)
    for regular, bold in candidates:
        if Path(regular).exists():
            return regular, bold if Path(bold).exists() else regular
    raise CertificateFontMissing("No TrueType font with Vietnamese glyphs: install fonts-dejavu-core "
                                 "or set CERTIFICATE_FONT.")


def pdf_fonts() -> tuple[str, str]:
    """Register (once) and return reportlab's names of the regular and bold fonts (``font_files``)."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if "CeCert" in pdfmetrics.getRegisteredFontNames():
        return "CeCert", "CeCertBold"
    regular, bold = font_files()
    pdfmetrics.registerFont(TTFont("CeCert", regular))
    pdfmetrics.registerFont(TTFont("CeCertBold", bold))
    return "CeCert", "CeCertBold"


def document_date(place: str, day: dt.date) -> str:
    """"Cần Thơ, ngày 05 tháng 3 năm 2026": days below 10 and the months 1 and 2 take a leading zero
    (Nghị định 30/2020/NĐ-CP, Phụ lục I)."""
    month = f"{day.month:02d}" if day.month < 3 else str(day.month)
    text = f"ngày {day.day:02d} tháng {month} năm {day.year}"
    return f"{place}, {text}" if place else text[0].upper() + text[1:]


@dataclass(frozen=True)
class CertificateText:
    """Everything one certificate page says."""

    superior_body: str
    issuing_body: str
    number: str
    contest_title: str
    round_name: str
    full_name: str
    unit: str
    prize: str
    score: str
    place: str
    issued_on: dt.date
    signer_title: str
    signer_name: str


def certificate_pdf(*, contest_title: str, round_name: str, organisation: str, full_name: str, unit: str,
                    rank: int | None = None, score: Any, issued_on: dt.date | None = None, prize: str = "",
                    number: str = "", place: str = "", superior_body: str = "", signer_title: str = "",
                    signer_name: str = "") -> bytes:
    """One certificate as a one-page PDF (A4 landscape)."""
    text = CertificateText(
        superior_body=superior_body, issuing_body=organisation, number=number, contest_title=contest_title,
        round_name=round_name, full_name=full_name, unit=unit,
        prize=prize or (f"Hạng {rank}" if rank is not None else ""), score=format_score(score), place=place,
        issued_on=issued_on or timezone.localdate(), signer_title=signer_title, signer_name=signer_name)
    return render_certificates([text])


def render_certificates(pages: Iterable[CertificateText]) -> bytes:
    """Many certificates in one PDF, one A4 landscape page each."""
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.pdfgen import canvas

    regular, bold = pdf_fonts()
    width, height = landscape(A4)
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=(width, height))
    pdf.setTitle("Giấy chứng nhận")
    count = 0
    for page in pages:
        count += 1
        _draw(pdf, page, width=width, height=height, regular=regular, bold=bold)
        pdf.showPage()
    if not count:
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def _fit(pdf: Any, text: str, font: str, size: float, max_width: float) -> float:
    """The largest size ≤ ``size`` at which ``text`` fits ``max_width``."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    while size > 7 and stringWidth(text, font, size) > max_width:
        size -= 0.5
    return size


def _draw(pdf: Any, page: CertificateText, *, width: float, height: float, regular: str, bold: str) -> None:
    from reportlab.pdfbase.pdfmetrics import stringWidth

    margin = 36
    pdf.setLineWidth(3)
    pdf.rect(margin - 8, margin - 8, width - 2 * (margin - 8), height - 2 * (margin - 8))
    pdf.setLineWidth(0.8)
    pdf.rect(margin, margin, width - 2 * margin, height - 2 * margin)

    # Top left: superior body, issuing body (bold, underlined), the number.
    left_centre = margin + 165
    top = height - margin - 34
    column = 300
    if page.superior_body:
        size = _fit(pdf, page.superior_body.upper(), regular, 12, column)
        pdf.setFont(regular, size)
        pdf.drawCentredString(left_centre, top, page.superior_body.upper())
        top -= 17
    body = page.issuing_body.upper()
    size = _fit(pdf, body, bold, 12, column)
    pdf.setFont(bold, size)
    pdf.drawCentredString(left_centre, top, body)
    line = min(stringWidth(body, bold, size), column) / 3
    pdf.line(left_centre - line / 2, top - 5, left_centre + line / 2, top - 5)
    if page.number:
        pdf.setFont(regular, 12)
        pdf.drawCentredString(left_centre, top - 24, f"Số: {page.number}")

    # Top right: the national name and motto.
    right_centre = width - margin - 185
    nation, motto = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc"
    pdf.setFont(bold, 12)
    pdf.drawCentredString(right_centre, height - margin - 34, nation)
    pdf.setFont(bold, 13)
    pdf.drawCentredString(right_centre, height - margin - 52, motto)
    motto_width = stringWidth(motto, bold, 13)
    pdf.line(right_centre - motto_width / 2, height - margin - 57, right_centre + motto_width / 2,
             height - margin - 57)

    centre = width / 2
    usable = width - 2 * margin - 60
    y = height - margin - 130
    pdf.setFont(bold, 34)
    pdf.drawCentredString(centre, y, "GIẤY CHỨNG NHẬN")
    y -= 40
    grants = f"{page.issuing_body.upper()} CHỨNG NHẬN"
    pdf.setFont(bold, _fit(pdf, grants, bold, 14, usable))
    pdf.drawCentredString(centre, y, grants)
    y -= 44
    pdf.setFont(bold, _fit(pdf, page.full_name, bold, 26, usable))
    pdf.drawCentredString(centre, y, page.full_name)
    y -= 28
    if page.unit:
        unit = f"Đơn vị: {page.unit}"
        pdf.setFont(regular, _fit(pdf, unit, regular, 14, usable))
        pdf.drawCentredString(centre, y, unit)
        y -= 36
    prize = f"Đã đạt {page.prize}" if page.prize else "Đã đạt giải"
    pdf.setFont(bold, _fit(pdf, prize, bold, 22, usable))
    pdf.drawCentredString(centre, y, prize)
    y -= 28
    contest = f"{page.contest_title} — {page.round_name}" if page.round_name else page.contest_title
    pdf.setFont(regular, _fit(pdf, contest, regular, 14, usable))
    pdf.drawCentredString(centre, y, contest)
    y -= 22
    pdf.setFont(regular, 13)
    pdf.drawCentredString(centre, y, f"Điểm: {page.score}")

    # Bottom right: place and date, the signer's title, room for the signature and seal, the signer's name.
    sign_centre = width - margin - 185
    pdf.setFont(regular, 13)
    pdf.drawCentredString(sign_centre, margin + 150, document_date(page.place, page.issued_on))
    if page.signer_title:
        pdf.setFont(bold, _fit(pdf, page.signer_title.upper(), bold, 13, 320))
        pdf.drawCentredString(sign_centre, margin + 130, page.signer_title.upper())
    if page.signer_name:
        pdf.setFont(bold, 14)
        pdf.drawCentredString(sign_centre, margin + 40, page.signer_name)


# --------------------------------------------------------------------------------------------------
# Certificates of a published ranking
# --------------------------------------------------------------------------------------------------


def _province_name(organisation: Any) -> str:
    """The name of the province/city an organisation belongs to, without "Thành phố"/"Tỉnh" ("Cần Thơ")."""
    current, seen = organisation, 0
    while current is not None and seen < 10:
        if current.kind == OrganisationKind.CITY:
            name = current.name
            for prefix in ("Thành phố ", "thành phố ", "Tỉnh ", "tỉnh "):
                name = name.removeprefix(prefix)
            return name
        current, seen = current.parent, seen + 1
    return ""


def settings_for(contest: Any) -> Any:
    """The contest's certificate settings, or unsaved defaults from its organisation (to be completed with
    the signer's name on the certificate settings page)."""
    found = CertificateSettings.objects.filter(contest=contest).first()
    if found is not None:
        return found
    organisation = contest.organisation
    return CertificateSettings(contest=contest, superior_body="", issuing_body=organisation.name,
                               place=_province_name(organisation), signer_title="Trưởng Ban Tổ chức",
                               signer_name="", number_sign="GCN")


def _numbers(*, ranking: Any, entries: list[Any], now: dt.datetime) -> dict[int, int]:
    """{user id: serial}: the existing numbers of these winners, new ones (in listing order) for the rest.
    The contest row is locked so two downloads never give one number twice."""
    round = ranking.round
    with transaction.atomic():
        Contest.objects.select_for_update().filter(pk=round.contest_id).first()
        known = dict(Certificate.objects.filter(round=round, user_id__in=[e.user_id for e in entries])
                     .values_list("user_id", "serial"))
        serial = Certificate.objects.filter(contest_id=round.contest_id).aggregate(m=Max("serial"))["m"] or 0
        for entry in entries:
            if entry.user_id not in known:
                serial += 1
                Certificate.objects.create(contest_id=round.contest_id, round=round, user_id=entry.user_id,
                                           serial=serial, issued_at=now)
                known[entry.user_id] = serial
    return known


def certificates_pdf(*, ranking: Any, actor: Any, positions: list[int] | None = None,
                     now: dt.datetime | None = None) -> tuple[bytes, int]:
    """The certificates of the winners of a published ranking (all, or those at ``positions``) in one PDF,
    and how many. Audited as ``judging.certificate_downloaded`` (positions and numbers, never names)."""
    now = now or timezone.now()
    entries = list(RankingEntry.objects.filter(ranking=ranking, is_winner=True).order_by("position")
                   .select_related("unit", "attempt__registration"))
    if positions is not None:
        entries = [e for e in entries if e.position in set(positions)]
    if not entries:
        return b"", 0
    round, contest = ranking.round, ranking.round.contest
    chosen = settings_for(contest)
    numbers = _numbers(ranking=ranking, entries=entries, now=now)
    issued_on = timezone.localtime(ranking.published_at or now).date()
    pages = [CertificateText(
        superior_body=chosen.superior_body, issuing_body=chosen.issuing_body,
        number=f"{numbers[e.user_id]:02d}/{chosen.number_sign}" if chosen.number_sign else f"{numbers[e.user_id]:02d}",
        contest_title=contest.title, round_name=round.name, full_name=e.attempt.registration.full_name,
        unit=e.unit.name, prize=PRIZE_NAMES.get(e.prize, ""), score=format_score(e.score), place=chosen.place,
        issued_on=issued_on, signer_title=chosen.signer_title, signer_name=chosen.signer_name) for e in entries]
    body = render_certificates(pages)
    audit_record(actor=actor, action="judging.certificate_downloaded", target=ranking,
                 organisation=contest.organisation_id,
                 data={"version": ranking.version, "count": len(entries),
                       "positions": [e.position for e in entries][:500],
                       "numbers": [numbers[e.user_id] for e in entries][:500]})
    return body, len(entries)
