"""The share poster (áp phích): one A4 portrait page to print and pin up — the organising body, the contest's
name and summary, its dates, a large QR code of the short link and the link written out for those who type it,
then the rounds and their dates. Drawn with reportlab in the fonts of the certificates (judging.certificates:
TrueType with Vietnamese glyphs, embedded). Always in Vietnamese: it is read by citizens.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from judging.certificates import pdf_fonts
from sharing.qr import qr_draw
from sharing.selectors import Schedule

MAX_ROUNDS_LISTED = 9


@dataclass(frozen=True)
class PosterText:
    organisation: str
    title: str
    summary: str
    schedule: Schedule
    url: str  # the short link the QR code holds


def _wrapped(text: str, font: str, size: float, width: float) -> list[str]:
    from reportlab.lib.utils import simpleSplit

    return simpleSplit(text, font, size, width) if text else []


def _fitted(text: str, font: str, sizes: tuple[float, ...], width: float, max_lines: int) -> tuple[float, list[str]]:
    """The largest of ``sizes`` at which ``text`` wraps into at most ``max_lines`` lines (the last size's lines
    cut to ``max_lines``, the last one ending in "…", when none does)."""
    for size in sizes:
        lines = _wrapped(text, font, size, width)
        if len(lines) <= max_lines:
            return size, lines
    size = sizes[-1]
    lines = _wrapped(text, font, size, width)[:max_lines]
    lines[-1] = lines[-1].rstrip(" ,.;") + "…"
    return size, lines


def poster_pdf(poster: PosterText) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    regular, bold = pdf_fonts()
    width, height = A4
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    pdf.setTitle(poster.title)
    pdf.setAuthor(poster.organisation)
    pdf.setSubject("Áp phích cuộc thi")
    _draw(pdf, poster, width=width, height=height, regular=regular, bold=bold)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def _draw(pdf: Any, poster: PosterText, *, width: float, height: float, regular: str, bold: str) -> None:
    margin = 32
    pdf.setLineWidth(3)
    pdf.setStrokeColorRGB(0.70, 0.15, 0.12)
    pdf.rect(margin - 8, margin - 8, width - 2 * (margin - 8), height - 2 * (margin - 8))
    pdf.setLineWidth(0.8)
    pdf.rect(margin, margin, width - 2 * margin, height - 2 * margin)
    centre, usable = width / 2, width - 2 * margin - 48

    y = height - margin - 36
    size, lines = _fitted(poster.organisation.upper(), bold, (14, 12, 10), usable, 2)
    pdf.setFont(bold, size)
    for line in lines:
        pdf.drawCentredString(centre, y, line)
        y -= size + 4

    y -= 30
    pdf.setFillColorRGB(0.70, 0.15, 0.12)
    size, lines = _fitted(poster.title, bold, (30, 26, 22, 18), usable, 3)
    pdf.setFont(bold, size)
    for line in lines:
        pdf.drawCentredString(centre, y, line)
        y -= size * 1.25
    pdf.setFillColorRGB(0, 0, 0)

    if poster.summary:
        y -= 4
        size, lines = _fitted(poster.summary, regular, (13, 12, 11), usable, 3)
        pdf.setFont(regular, size)
        for line in lines:
            pdf.drawCentredString(centre, y, line)
            y -= size * 1.35

    when = poster.schedule.times_text()
    y -= 10
    size, lines = _fitted(f"Thời gian: {when}" if when else "Thời gian: sẽ được thông báo", bold, (14, 12), usable, 2)
    pdf.setFont(bold, size)
    for line in lines:
        pdf.drawCentredString(centre, y, line)
        y -= size * 1.35

    qr_size = min(250.0, y - 300)
    y -= qr_size + 6
    qr_draw(pdf, url=poster.url, x=centre - qr_size / 2, y=y, size=qr_size)

    y -= 22
    pdf.setFont(bold, 16)
    pdf.drawCentredString(centre, y, "Quét mã QR bằng điện thoại để dự thi")
    y -= 24
    link = poster.url.removeprefix("https://").removeprefix("http://")
    pdf.setFont(bold, min(18, _largest(link, bold, usable)))
    pdf.setFillColorRGB(0.70, 0.15, 0.12)
    pdf.drawCentredString(centre, y, link)
    pdf.setFillColorRGB(0, 0, 0)

    rounds = poster.schedule.rounds
    if len(rounds) > 1:
        y -= 34
        pdf.setFont(bold, 12)
        pdf.drawCentredString(centre, y, "Lịch thi")
        pdf.setFont(regular, 11)
        for entry in rounds[:MAX_ROUNDS_LISTED]:
            y -= 16
            if y < margin + 16:
                break
            pdf.drawCentredString(centre, y, f"{entry.name}: {entry.opens_at:%H:%M %d/%m/%Y} – "
                                             f"{entry.closes_at:%H:%M %d/%m/%Y}")
        if len(rounds) > MAX_ROUNDS_LISTED and y >= margin + 32:
            pdf.drawCentredString(centre, y - 16, "…")


def _largest(text: str, font: str, width: float) -> float:
    from reportlab.pdfbase.pdfmetrics import stringWidth

    size = 18.0
    while size > 8 and stringWidth(text, font, size) > width:
        size -= 0.5
    return size
