"""PDF certificates (giấy chứng nhận) for the winners of a published ranking, drawn with reportlab (BSD).

Vietnamese needs a TrueType font with its glyphs: DejaVu Sans (Debian's fonts-dejavu-core, which LibreOffice
and fontconfig pull in) or Liberation Sans, or the file named by ``settings.CERTIFICATE_FONT``.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone

FONT_CANDIDATES = (
    ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
    ("/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
     "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf"),
)


class CertificateFontMissing(RuntimeError):
    pass


def _fonts() -> tuple[str, str]:
    """Register (once) and return the regular and bold font names."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if "CeCert" in pdfmetrics.getRegisteredFontNames():
        return "CeCert", "CeCertBold"
    configured = getattr(settings, "CERTIFICATE_FONT", "")
    candidates = [(configured, configured)] if configured else list(FONT_CANDIDATES)
    for regular, bold in candidates:
        if Path(regular).exists():
            pdfmetrics.registerFont(TTFont("CeCert", regular))
            pdfmetrics.registerFont(TTFont("CeCertBold", bold if Path(bold).exists() else regular))
            return "CeCert", "CeCertBold"
    raise CertificateFontMissing("No TrueType font with Vietnamese glyphs: install fonts-dejavu-core "
                                 "or set CERTIFICATE_FONT.")


def certificate_pdf(*, contest_title: str, round_name: str, organisation: str, full_name: str, unit: str,
                    rank: int, score: Any, issued_on: Any = None) -> bytes:
    """One A4 landscape page."""
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.pdfgen import canvas

    regular, bold = _fonts()
    issued_on = issued_on or timezone.localdate()
    buffer = io.BytesIO()
    width, height = landscape(A4)
    pdf = canvas.Canvas(buffer, pagesize=(width, height))
    pdf.setTitle(f"Giấy chứng nhận — {full_name}")
    pdf.setAuthor(organisation)
    pdf.setLineWidth(3)
    pdf.rect(28, 28, width - 56, height - 56)
    pdf.setLineWidth(1)
    pdf.rect(36, 36, width - 72, height - 72)
    centre = width / 2
    lines = [
        (bold, 14, height - 90, organisation.upper()),
        (bold, 34, height - 160, "GIẤY CHỨNG NHẬN"),
        (regular, 15, height - 200, contest_title),
        (regular, 13, height - 222, round_name),
        (regular, 15, height - 275, "Chứng nhận"),
        (bold, 28, height - 315, full_name),
        (regular, 15, height - 345, f"Đơn vị: {unit}"),
        (bold, 20, height - 395, f"Đạt hạng {rank}"),
        (regular, 14, height - 420, f"Điểm: {score}"),
        (regular, 12, 80, f"Ngày {issued_on:%d} tháng {issued_on:%m} năm {issued_on:%Y}"),
    ]
    for font, size, y, text in lines:
        pdf.setFont(font, size)
        pdf.drawCentredString(centre, y, text)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()
