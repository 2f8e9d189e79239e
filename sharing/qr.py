"""QR codes of share links (segno, BSD-3-Clause): SVG and PNG files, and the modules drawn straight onto a PDF
page so the poster's code stays sharp at any print size."""

from __future__ import annotations

import io
from typing import Any

QUIET_ZONE = 4  # modules of white border the QR specification asks for


def _code(url: str) -> Any:
    import segno

    # Level M (15 % of the code may be lost): posters get creased, stained and photographed at an angle.
    return segno.make(url, error="m", micro=False)


def qr_svg(*, url: str, title: str = "") -> bytes:
    buffer = io.BytesIO()
    _code(url).save(buffer, kind="svg", scale=10, border=QUIET_ZONE, xmldecl=False, title=title or None,
                    svgclass="share-qr", lineclass=None)
    return buffer.getvalue()


def qr_png(*, url: str, scale: int = 12) -> bytes:
    buffer = io.BytesIO()
    _code(url).save(buffer, kind="png", scale=scale, border=QUIET_ZONE)
    return buffer.getvalue()


def qr_draw(pdf: Any, *, url: str, x: float, y: float, size: float) -> None:
    """Draw the code for ``url`` on a reportlab canvas as a ``size`` × ``size`` square (quiet zone included)
    with its lower-left corner at (x, y): one rectangle per run of dark modules in a row."""
    rows = [list(row) for row in _code(url).matrix_iter(scale=1, border=QUIET_ZONE)]
    module = size / len(rows)
    pdf.saveState()
    pdf.setFillColorRGB(1, 1, 1)
    pdf.rect(x, y, size, size, stroke=0, fill=1)
    pdf.setFillColorRGB(0, 0, 0)
    for r, row in enumerate(rows):
        top = y + size - (r + 1) * module
        c = 0
        while c < len(row):
            if row[c]:
                start = c
                while c < len(row) and row[c]:
                    c += 1
                # A hair wider and taller than the module, so no white seams appear between runs when printed.
                pdf.rect(x + start * module, top - 0.05, (c - start) * module + 0.05, module + 0.1, stroke=0, fill=1)
            else:
                c += 1
    pdf.restoreState()
