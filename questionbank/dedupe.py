"""Duplicate and near-duplicate detection for Vietnamese question text. Warns; never merges.

Two levels:

* **Exact** — ``normalise`` (NFC, lower case, HTML and punctuation removed, whitespace folded) and a
  diacritics-insensitive ``search_key`` (the same with Vietnamese tone/vowel marks removed and đ → d), so
  "Người điều khiển xe" and "nguoi dieu khien xe" collide. The key is stored hashed and indexed.
* **Near** — Jaccard similarity of word 3-shingles (of the diacritics-insensitive text) ≥ ``NEAR_THRESHOLD``.
  Comparing against every question would not scale to tens of thousands, so a MinHash locality-sensitive
  prefilter picks candidates: each question stores ``BANDS`` band keys (``QuestionSimilarityKey``, indexed);
  only questions sharing a band key are compared exactly. With 8 bands of 4 rows a pair at J = 0.85 becomes a
  candidate with probability 0.997, a pair at J = 0.3 with 0.06 — and every candidate is verified exactly,
  so a warning always means a real Jaccard ≥ threshold.
"""

from __future__ import annotations

import hashlib
import re
import struct
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from questionbank.sanitize import html_to_text

NEAR_THRESHOLD = 0.85
SHINGLE_SIZE = 3
BANDS = 8
ROWS = 4
_HASHES = BANDS * ROWS
_UNPACK = struct.Struct(f"<{_HASHES}I").unpack


_PUNCT_RE = re.compile(r"[^\w\s]+", re.UNICODE)
_SPACE_RE = re.compile(r"\s+")
# Every combining mark Vietnamese uses (grave, acute, tilde, hook above, dot below, circumflex, breve, horn) and
# the rest of the Combining Diacritical Marks block.
_COMBINING_RE = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+")


def normalise(text: str) -> str:
    """NFC, lower case, no HTML, punctuation → space, whitespace folded. Keeps Vietnamese diacritics."""
    plain = html_to_text(text)
    plain = unicodedata.normalize("NFC", plain).lower()
    plain = _PUNCT_RE.sub(" ", plain).replace("_", " ")
    return _SPACE_RE.sub(" ", plain).strip()


def strip_diacritics(text: str) -> str:
    """Remove combining marks (NFD) and map đ → d: "Điều khiển" → "dieu khien"."""
    base = _COMBINING_RE.sub("", unicodedata.normalize("NFD", text))
    return unicodedata.normalize("NFC", base).replace("đ", "d").replace("Đ", "D")


def search_text(text: str) -> str:
    """Diacritics-insensitive normal form used for keys and shingles."""
    return strip_diacritics(normalise(text))


def search_key(text: str) -> str:
    """Hex digest of :func:`search_text`: equal keys mean the same question text up to accents/punctuation."""
    return hashlib.sha256(search_text(text).encode()).hexdigest()[:40]


def question_text(stem: str, option_texts: Iterable[str] = ()) -> str:
    """The text compared for duplicates: the stem plus the options (so the same stem with different
    options — a legitimate variant — is still flagged only when the options are nearly the same too)."""
    parts = [stem, *option_texts]
    return " ".join(p for p in parts if p)


def shingles(normalised_search_text: str) -> frozenset[str]:
    words = normalised_search_text.split()
    if len(words) < SHINGLE_SIZE:
        return frozenset([" ".join(words)]) if words else frozenset()
    return frozenset(" ".join(words[i:i + SHINGLE_SIZE]) for i in range(len(words) - SHINGLE_SIZE + 1))


def band_keys(shingle_set: frozenset[str]) -> list[int]:
    """``BANDS`` signed 64-bit keys (PostgreSQL bigint) from a MinHash signature of the shingle set.

    The ``BANDS × ROWS`` hash functions are the 32-bit words of one SHAKE-128 output per shingle (an
    extendable-output function: its output words behave as independent hashes), so a signature costs one
    hash call per shingle and column minima computed in C — fast enough for 10,000-row imports."""
    if not shingle_set:
        return []
    rows = [_UNPACK(hashlib.shake_128(s.encode()).digest(4 * _HASHES)) for s in shingle_set]
    signature = [min(column) for column in zip(*rows, strict=True)]
    keys = []
    for band in range(BANDS):
        chunk = signature[band * ROWS:(band + 1) * ROWS]
        digest = hashlib.blake2b(repr((band, chunk)).encode(), digest_size=8).digest()
        keys.append(struct.unpack("<q", digest)[0])
    return keys


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


@dataclass(frozen=True)
class Fingerprint:
    normalised: str        # normalise(): stored on Question.normalised_text
    search_key: str        # hashed diacritics-insensitive text: Question.search_key
    shingles: frozenset[str]
    band_keys: tuple[int, ...]


def fingerprint(stem: str, option_texts: Iterable[str] = ()) -> Fingerprint:
    text = question_text(stem, option_texts)
    norm = normalise(text)
    search = strip_diacritics(norm)
    sh = shingles(search)
    return Fingerprint(
        normalised=norm,
        search_key=hashlib.sha256(search.encode()).hexdigest()[:40],
        shingles=sh,
        band_keys=tuple(band_keys(sh)),
    )


def shingles_of_normalised(normalised_text: str) -> frozenset[str]:
    """Shingles of a stored ``Question.normalised_text`` (used to verify LSH candidates exactly)."""
    return shingles(strip_diacritics(normalised_text))


def question_search_text(normalised: str, *, citation: str = "") -> str:
    """What the bank's search matches (``Question.search_text``): the normalised stem and options
    (``Fingerprint.normalised``) and the citation ("Khoản 1, Điều 172, 91/2015/QH13"), without diacritics and
    case, so "luat dat dai", "LUẬT ĐẤT ĐAI" and "Điều 172" find what officials mean."""
    return strip_diacritics(" ".join(part for part in (normalised, normalise(citation)) if part))


def search_terms(query: str) -> list[str]:
    """The words of a search query in the form ``question_search_text`` stores ("Điều 172" → ["dieu", "172"])."""
    return search_text(query).split()


def answer_key(*, citation_document: str, citation_article: str, correct_texts: Iterable[str]) -> str:
    """A key shared by questions that cite the same article of the same document and accept the same correct
    answer(s) — reworded versions of one question that the word shingles miss ("Theo Điều 172 …, ai …?" and
    "Người nào … theo quy định tại Điều 172?" with the same correct option). Empty when the question cites
    no article or has no correct answer: then only the text comparisons apply."""
    document = search_text(citation_document)
    article = search_text(citation_article)
    answers = sorted({search_text(t) for t in correct_texts if search_text(t)})
    if not document or not article or not answers:
        return ""
    return hashlib.sha256("|".join([document, article, *answers]).encode()).hexdigest()[:40]
