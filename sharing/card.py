"""The preview card (og:image): a 1200 × 630 PNG — the size Facebook and Zalo show largest (1.91:1) — with the
organising body, the contest's name, its dates, the QR code of the short link and the link written out.
Drawn with Pillow in the fonts of the certificates (judging.certificates.font_files). Always in Vietnamese.
"""

from __future__ import annotations

import io
import unicodedata
from dataclasses import dataclass
from typing import Any

from judging.certificates import font_files
from sharing.qr import qr_png

WIDTH, HEIGHT = 1200, 630
ACCENT = (179, 38, 30)  # the site's accent (static/css/site.css)
WHITE = (255, 255, 255)
INK = (20, 24, 32)


@dataclass(frozen=True)
class CardText:
    organisation: str
    title: str
    dates: str
    url: str  # the short link (QR code and text); empty: no QR code


def _font(path: str, size: int) -> Any:
    from PIL import ImageFont

    return ImageFont.truetype(path, size)


def _wrap(draw: Any, text: str, font: Any, width: int) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}".strip()
        if current and draw.textlength(candidate, font=font) > width:
            lines.append(current)
            current = word
        else:
            current = candidate
    if current:
        lines.append(current)
    return lines


def _fitted(draw: Any, text: str, path: str, sizes: tuple[int, ...], width: int,
            max_lines: int) -> tuple[Any, list[str]]:
    """The largest of ``sizes`` at which ``text`` wraps into at most ``max_lines`` lines (else the smallest,
    cut, ending in "…")."""
    for size in sizes:
        font = _font(path, size)
        lines = _wrap(draw, text, font, width)
        if len(lines) <= max_lines:
            return font, lines
    lines = _wrap(draw, text, font, width)[:max_lines]
    lines[-1] = lines[-1].rstrip(" ,.;") + "…"
    return font, lines


def card_png(card: CardText) -> bytes:
    from PIL import Image, ImageDraw

    regular, bold = font_files()
    image = Image.new("RGB", (WIDTH, HEIGHT), ACCENT)
    draw = ImageDraw.Draw(image)
    # Precomposed letters (NFC): the fonts have "ệ" as one glyph; a decomposed "ê" + dot below could misplace.
    organisation, title, dates = (unicodedata.normalize("NFC", t) for t in (card.organisation, card.title, card.dates))

    panel_right = WIDTH - 40 if not card.url else WIDTH - 420
    draw.rounded_rectangle((40, 40, WIDTH - 40, HEIGHT - 40), radius=24, fill=WHITE)
    text_width = panel_right - 110
    x, y = 80, 84
    font, lines = _fitted(draw, organisation.upper(), bold, (28, 24, 20), text_width, 2)
    for line in lines:
        draw.text((x, y), line, font=font, fill=ACCENT)
        y += font.size + 8
    y += 24
    font, lines = _fitted(draw, title, bold, (60, 52, 44, 38), text_width, 4)
    for line in lines:
        draw.text((x, y), line, font=font, fill=INK)
        y += int(font.size * 1.22)
    if dates:
        y += 20
        font = _font(regular, 30)
        for line in _wrap(draw, dates, font, text_width)[:2]:
            draw.text((x, y), line, font=font, fill=INK)
            y += 40

    if card.url:
        code = Image.open(io.BytesIO(qr_png(url=card.url, scale=10))).convert("RGB")
        side = 330
        code = code.resize((side, side), Image.Resampling.NEAREST)
        left, top = WIDTH - 80 - side, 90
        image.paste(code, (left, top))
        link = card.url.removeprefix("https://").removeprefix("http://").rstrip("/")
        font = _font(bold, 26)
        while font.size > 14 and draw.textlength(link, font=font) > side + 20:
            font = _font(bold, font.size - 2)
        draw.text((left + side / 2, top + side + 30), link, font=font, fill=ACCENT, anchor="mt")
        draw.text((left + side / 2, top + side + 72), "Quét mã để dự thi", font=_font(regular, 24), fill=INK,
                  anchor="mt")

    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
