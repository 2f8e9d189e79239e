"""Check the committed English catalogue: complete, not fuzzy, placeholders kept, and compiled.

Usage: python scripts/check_translations.py [locale/en/LC_MESSAGES/django.po ...]
(with no argument: every django.po / djangojs.po under locale/*/LC_MESSAGES/).

It does NOT run makemessages: msgids change while the apps are being written, so this only checks the catalogue
against the msgids it already holds. Exit status 1 (with one line per problem) when, for any catalogue:
- an entry is untranslated (an empty msgstr, or an empty plural form) or marked fuzzy (including the header);
- a python-format / python-brace-format entry's translation does not keep the msgid's placeholders;
- a translation still contains Vietnamese letters (a msgid copied into msgstr) - unless a translator comment says
  ``keep-vietnamese`` (e.g. the language's own name in the language switcher), or the catalogue is the Vietnamese
  one (``locale/vi``: Django's own English strings that Django's Vietnamese catalogue lacks);
- the .mo beside the .po is missing or does not hold exactly the .po's translations. The comparison is by content
  (the .mo is read back), not by modification time: git does not keep file times, so a
  fresh clone would make a time check meaningless.
The .po parser is deliberately small (no polib dependency): it understands what makemessages/msgmerge write.
"""

from __future__ import annotations

import ast
import re
import struct
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Letters that exist in Vietnamese but not in English (lower and upper case, every tone mark).
VIETNAMESE_LETTERS = re.compile(
    "[àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ"
    "ÀÁẢÃẠĂẰẮẲẴẶÂẦẤẨẪẬÈÉẺẼẸÊỀẾỂỄỆÌÍỈĨỊÒÓỎÕỌÔỒỐỔỖỘƠỜỚỞỠỢÙÚỦŨỤƯỪỨỬỮỰỲÝỶỸỴĐ]"
)
PERCENT_PLACEHOLDER = re.compile(r"%(?:\([^)]+\))?[-#0 +]*\d*(?:\.\d+)?[sdifrxXeEgGc%]")
BRACE_PLACEHOLDER = re.compile(r"\{[^{}]*\}")


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    comments: list[str] = field(default_factory=list)  # translator comments ("# ...")
    references: list[str] = field(default_factory=list)
    line: int = 0

    @property
    def key(self) -> str:
        """The key the compiled catalogue uses (gettext's context separator is EOT)."""
        return self.msgid if self.msgctxt is None else f"{self.msgctxt}\x04{self.msgid}"


def _unquote(text: str, path: Path, lineno: int) -> str:
    text = text.strip()
    if not (text.startswith('"') and text.endswith('"')):
        raise ValueError(f"{path}:{lineno}: expected a quoted string, got {text!r}")
    # PO escapes (\n, \t, \", \\) are a subset of Python's.
    return ast.literal_eval(text)


def parse_po(path: Path) -> list[Entry]:
    """Entries of a .po file, header first; obsolete (#~) entries are skipped."""
    entries: list[Entry] = []
    current = Entry()
    target: tuple[str, int] | None = None  # which field continuation lines append to
    started = False

    def finish() -> None:
        nonlocal current, target, started
        if started:
            entries.append(current)
        current, target, started = Entry(), None, False

    for lineno, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line:
            finish()
            continue
        if line.startswith("#~"):
            continue
        if line.startswith("#"):
            if started and target is not None and target[0] != "comment":
                finish()  # a comment after msgstr begins the next entry even without a blank line
            if line.startswith("#,"):
                current.flags.update(f.strip() for f in line[2:].split(",") if f.strip())
            elif line.startswith("#:"):
                current.references.extend(line[2:].split())
            elif line.startswith("# ") or line == "#":
                current.comments.append(line[2:])
            target = ("comment", 0)
            if not current.line:
                current.line = lineno
            continue
        if line.startswith('"'):
            if target is None or target[0] == "comment":
                raise ValueError(f"{path}:{lineno}: continuation line outside an entry")
            value = _unquote(line, path, lineno)
            name, index = target
            if name == "msgstr":
                current.msgstr[index] += value
            else:
                setattr(current, name, getattr(current, name) + value)
            continue
        keyword, _, rest = line.partition(" ")
        if keyword in ("msgctxt", "msgid") and current.msgstr:
            finish()  # the previous entry ended without a blank line
        if not current.line:
            current.line = lineno
        started = True
        value = _unquote(rest, path, lineno)
        if keyword in ("msgctxt", "msgid", "msgid_plural"):
            setattr(current, keyword, value)
            target = (keyword, 0)
        elif keyword == "msgstr":
            current.msgstr[0] = value
            target = ("msgstr", 0)
        elif keyword.startswith("msgstr[") and keyword.endswith("]"):
            index = int(keyword[7:-1])
            current.msgstr[index] = value
            target = ("msgstr", index)
        else:
            raise ValueError(f"{path}:{lineno}: unknown keyword {keyword!r}")
    finish()
    return entries


def _plural_count(header: Entry) -> int:
    match = re.search(r"nplurals\s*=\s*(\d+)", header.msgstr.get(0, ""))
    return int(match.group(1)) if match else 2


def _placeholders(entry: Entry, text: str) -> list[str]:
    found: list[str] = []
    if "python-format" in entry.flags:
        found += [p for p in PERCENT_PLACEHOLDER.findall(text) if p != "%%"]
    if "python-brace-format" in entry.flags:
        found += BRACE_PLACEHOLDER.findall(text)
    return sorted(found)


def check_entries(path: Path, entries: list[Entry]) -> list[str]:
    problems: list[str] = []
    if not entries or entries[0].msgid != "":
        return [f"{path}: no header entry"]
    header, body = entries[0], entries[1:]
    if "fuzzy" in header.flags:
        problems.append(f"{path}:{header.line}: the header is marked fuzzy")
    nplurals = _plural_count(header)
    # The Vietnamese catalogue translates Django's own (English) strings into Vietnamese: the
    # "msgid copied into msgstr" check is for the catalogues of other languages only.
    vietnamese_catalogue = "Language: vi\n" in header.msgstr.get(0, "")
    for entry in body:
        where = f"{path}:{entry.line}: {entry.msgid[:60]!r}"
        if "fuzzy" in entry.flags:
            problems.append(f"{where} is fuzzy")
        expected = range(nplurals) if entry.msgid_plural is not None else range(1)
        forms = [entry.msgstr.get(i, "") for i in expected]
        if any(not form for form in forms):
            problems.append(f"{where} is untranslated")
            continue
        keep_vietnamese = vietnamese_catalogue or any("keep-vietnamese" in c for c in entry.comments)
        for i, form in enumerate(forms):
            if VIETNAMESE_LETTERS.search(form) and not keep_vietnamese:
                problems.append(f"{where} translation still contains Vietnamese: {form[:60]!r}")
            source = entry.msgid if (entry.msgid_plural is None or i == 0) else entry.msgid_plural
            if _placeholders(entry, form) != _placeholders(entry, source):
                # A singular form may drop the number ("One answer" for "%(n)d answers"): Django allows it.
                singular_may_drop = entry.msgid_plural is not None and i == 0
                if not (singular_may_drop and set(_placeholders(entry, form)) <= set(_placeholders(entry, source))):
                    problems.append(f"{where} placeholders differ in form {i}: {form[:60]!r}")
    return problems


def expected_catalog(entries: list[Entry]) -> dict[object, str]:
    """What msgfmt should write for these entries: translated, non-fuzzy ones (header included)."""
    catalog: dict[object, str] = {}
    for entry in entries:
        if "fuzzy" in entry.flags and entry.msgid != "":
            continue
        if entry.msgid_plural is None:
            if entry.msgstr.get(0):
                catalog[entry.key] = entry.msgstr[0]
        elif all(entry.msgstr.values()):
            for index, form in entry.msgstr.items():
                catalog[(entry.key, index)] = form
    return catalog


def read_mo(path: Path) -> dict[object, str]:
    """A compiled catalogue as {msgid or (msgid, plural index): translation} (GNU .mo format)."""
    data = path.read_bytes()
    magic = struct.unpack("<I", data[:4])[0]
    order = {0x950412DE: "<", 0xDE120495: ">"}.get(magic)
    if order is None:
        raise ValueError("not a .mo file")
    _revision, count, originals, translations = struct.unpack(f"{order}4I", data[4:20])
    catalog: dict[object, str] = {}
    for i in range(count):
        olen, ooff = struct.unpack(f"{order}2I", data[originals + 8 * i : originals + 8 * i + 8])
        tlen, toff = struct.unpack(f"{order}2I", data[translations + 8 * i : translations + 8 * i + 8])
        original = data[ooff : ooff + olen].decode("utf-8")
        translation = data[toff : toff + tlen].decode("utf-8")
        if "\x00" in original:  # msgid NUL msgid_plural -> forms separated by NUL
            msgid = original.split("\x00")[0]
            for index, form in enumerate(translation.split("\x00")):
                catalog[(msgid, index)] = form
        else:
            catalog[original] = translation
    return catalog


def check_compiled(po_path: Path, entries: list[Entry]) -> list[str]:
    mo_path = po_path.with_suffix(".mo")
    if not mo_path.exists():
        return [f"{mo_path}: missing - run `python manage.py compilemessages -l en --ignore=.venv`"]
    try:
        compiled = read_mo(mo_path)
    except (ValueError, struct.error) as error:
        return [f"{mo_path}: unreadable ({error})"]
    expected = expected_catalog(entries)
    # msgfmt leaves out POT-Creation-Date (which every makemessages run changes); the rest must match.
    expected_header = re.sub(r"POT-Creation-Date:[^\n]*\n", "", expected.pop("", ""))
    compiled_header = compiled.pop("", None)
    problems = []
    stale = sorted(str(k) for k in expected.keys() ^ compiled.keys())
    changed = sorted(str(k) for k in expected.keys() & compiled.keys() if expected[k] != compiled[k])
    if stale or changed or expected_header != compiled_header:
        sample = (stale + changed)[:3]
        problems.append(
            f"{mo_path}: out of sync with {po_path.name} ({len(stale)} entries added/removed, {len(changed)} changed,"
            f" e.g. {sample}) - run `python manage.py compilemessages -l en --ignore=.venv`"
        )
    return problems


def check(po_path: Path) -> list[str]:
    try:
        entries = parse_po(po_path)
    except ValueError as error:
        return [str(error)]
    return check_entries(po_path, entries) + check_compiled(po_path, entries)


def main(argv: list[str]) -> int:
    paths = [Path(a) for a in argv] or sorted(ROOT.glob("locale/*/LC_MESSAGES/*.po"))
    if not paths:
        print("check_translations: no catalogue found under locale/", file=sys.stderr)
        return 1
    problems = [problem for path in paths for problem in check(path)]
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"check_translations: {len(problems)} problem(s)", file=sys.stderr)
        return 1
    count = sum(len(parse_po(path)) - 1 for path in paths)
    print(f"check_translations: {count} entries in {len(paths)} catalogue(s), all translated and compiled")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
