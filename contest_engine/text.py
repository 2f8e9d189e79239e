"""Text helpers shared by every app: ASCII slugs of Vietnamese titles and names.

Django's ``slugify`` drops every letter it cannot decompose (``đ``), and the admin's JavaScript URLify maps
``đ`` to ``dj`` and drops letters with two diacritics (``ể``, ``ộ``): "Tìm hiểu Luật Giao thông đường bộ"
became ``tim-hiu-lut-giao-thong-djng-b``. Vietnamese needs one extra rule on top of Unicode decomposition
(đ/Đ → d), so no transliteration library is needed: every other Vietnamese letter is a Latin letter plus
combining marks, which NFKD separates.
"""

from __future__ import annotations

import re
import unicodedata


def slugify_vi(value: str, *, max_length: int | None = None) -> str:
    """"Tìm hiểu Luật Giao thông đường bộ 2026" → "tim-hieu-luat-giao-thong-duong-bo-2026"."""
    value = unicodedata.normalize("NFKD", str(value).replace("đ", "d").replace("Đ", "D"))
    value = value.encode("ascii", "ignore").decode("ascii").lower()
    slug = re.sub(r"[^a-z0-9]+", "-", value).strip("-")
    if max_length is not None:
        slug = slug[:max_length].rstrip("-")
    return slug
