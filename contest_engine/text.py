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


# --- Vietnamese alphabetical order -------------------------------------------------------------------------
# The alphabet as Vietnamese dictionaries order it: a ă â b c d đ e ê … o ô ơ … u ư …; f, j, w, z (loan words)
# in their Latin places. Tones are a secondary difference (CLDR "vi": none < huyền < hỏi < ngã < sắc < nặng),
# letter case a tertiary one. Runs of digits compare by value ("Phường 2" before "Phường 10").
_LETTERS = ["a", "ă", "â", "b", "c", "d", "đ", "e", "ê", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "ô",
            "ơ", "p", "q", "r", "s", "t", "u", "ư", "v", "w", "x", "y", "z"]
_LETTER_RANK = {letter: rank for rank, letter in enumerate(_LETTERS)}
_SHAPES = {"\u0306": "breve", "\u0302": "circumflex", "\u031b": "horn"}
_TONES = {"\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}
_SHAPED = {("a", "breve"): "ă", ("a", "circumflex"): "â", ("e", "circumflex"): "ê", ("o", "circumflex"): "ô",
           ("o", "horn"): "ơ", ("u", "horn"): "ư"}


def vietnamese_sort_key(value: str) -> tuple:
    """A key that sorts Vietnamese text as a Vietnamese reader expects: ``sorted(names, key=vietnamese_sort_key)``
    gives "An Bình, Ấp Bắc, Bình Thủy, Cái Răng, Đầm Dơi, Ô Môn, Ơn Nghĩa, Phường 2, Phường 10, Ửng" (binary order
    puts every accented capital after Z; ``locale.strxfrm`` depends on the server's installed locales)."""
    primary: list[tuple[int, int]] = []
    secondary: list[int] = []
    tertiary: list[int] = []
    text = unicodedata.normalize("NFD", str(value))
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char.isdigit():
            j = i
            while j < n and text[j].isdigit():
                j += 1
            primary.append((1, int(text[i:j])))
            i = j
            continue
        i += 1
        marks = []
        while i < n and unicodedata.combining(text[i]):
            marks.append(text[i])
            i += 1
        lower = char.lower()
        if lower == "đ" or lower in _LETTER_RANK:
            letter = lower
            for mark in marks:
                letter = _SHAPED.get((letter, _SHAPES.get(mark, "")), letter)
            primary.append((2, _LETTER_RANK.get(letter, 0)))
            secondary.append(max((_TONES.get(mark, 0) for mark in marks), default=0))
            tertiary.append(0 if char == lower else 1)
        elif char.isalpha():
            primary.append((3, ord(lower)))
            secondary.append(0)
            tertiary.append(0 if char == lower else 1)
        elif char.isspace() or char in "-–—,.;:/()":
            primary.append((0, 0))  # word separators sort first: "An Bình" before "Anh"
        else:
            primary.append((0, ord(char)))
    return (tuple(primary), tuple(secondary), tuple(tertiary))
