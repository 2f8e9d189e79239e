"""Open an export with LibreOffice (headless conversion to CSV): formula-like text must come out as typed,
never as a computed value. Under CI=true a missing LibreOffice is a failure, not a skip."""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess

import pytest

from exports.writers import BOOL, INT, TEXT, Column, XlsxExport
from tests.exports.factories import FORMULA_TEXTS

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")


def soffice_or_fail() -> str:
    if SOFFICE:
        return SOFFICE
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail("LibreOffice (soffice) is not installed but CI=true: install libreoffice-calc-nogui "
                    "(.ci/run does) — the export must be checked by a real spreadsheet program.")
    pytest.skip("LibreOffice not installed (set CI=true to make this a failure)")


def xlsx_to_csv_rows(path, tmp_path) -> list[list[str]]:
    """Convert the first sheet of ``path`` to CSV with LibreOffice and parse it."""
    soffice = soffice_or_fail()
    profile = tmp_path / "lo-profile"
    subprocess.run([soffice, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to",
                    "csv:Text - txt - csv (StarCalc):44,34,76,1", "--outdir", str(tmp_path), str(path)],
                   check=True, capture_output=True, timeout=180)
    out = tmp_path / (path.stem + ".csv")
    assert out.exists(), "LibreOffice produced no CSV"
    return list(csv.reader(io.StringIO(out.read_text(encoding="utf-8"), newline="")))


def test_libreoffice_reads_formula_like_text_as_text(tmp_path):
    path = tmp_path / "cong-thuc.xlsx"
    book = XlsxExport(str(path))
    sheet = book.add_sheet("Bài làm", [Column("Câu trả lời", TEXT), Column("Số", INT)])
    for text in [*FORMULA_TEXTS, "=2*21"]:
        sheet.append((text, -7))
    sheet.finish()
    book.close()
    rows = xlsx_to_csv_rows(path, tmp_path)
    assert rows[0] == ["Câu trả lời", "Số"]
    got = [r[0] for r in rows[1:]]
    # Nothing is evaluated ("=2*21" would otherwise become 42); LibreOffice writes a cell's line break
    # (CR) as LF in CSV, so compare with line ends normalised.
    assert got == [t.replace("\r", "\n") for t in [*FORMULA_TEXTS, "=2*21"]]
    assert all(r[1] == "-7" for r in rows[1:])


def test_libreoffice_shows_yes_no_in_vietnamese(tmp_path):
    """A yes/no column reads "Có"/"Không" in a spreadsheet program, never TRUE/FALSE."""
    path = tmp_path / "co-khong.xlsx"
    book = XlsxExport(str(path))
    sheet = book.add_sheet("Xếp hạng", [Column("Họ và tên", TEXT), Column("Đoạt giải", BOOL)])
    for name, won in (("Trần Thị A", True), ("Lê Văn B", False), ("Phạm C", None)):
        sheet.append((name, won))
    sheet.finish()
    book.close()
    rows = xlsx_to_csv_rows(path, tmp_path)
    assert rows[1:] == [["Trần Thị A", "Có"], ["Lê Văn B", "Không"], ["Phạm C", ""]]


@pytest.mark.django_db
def test_libreoffice_opens_the_results_workbook(tmp_path, results):
    """Every sheet of a real results workbook, converted by LibreOffice: names and answers typed as formulas
    come out as typed, row counts match."""
    from exports.selectors import export_target
    from exports.workbook import results_workbook_write
    from tests.exports.factories import FORMULA_NAME

    soffice = soffice_or_fail()
    path = tmp_path / "ket-qua.xlsx"
    results_workbook_write(target=export_target(round_id=results.round.pk), out=str(path), generated_by="thử",
                           full_personal_data=True)
    profile = tmp_path / "lo-profile"
    # Filter token 12 = -1: one CSV per sheet, named <file>-<sheet>.csv.
    subprocess.run([soffice, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to",
                    "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1",
                    "--outdir", str(tmp_path), str(path)], check=True, capture_output=True, timeout=180)

    def read(sheet: str) -> list[list[str]]:
        out = tmp_path / f"ket-qua-{sheet}.csv"
        assert out.exists(), sorted(p.name for p in tmp_path.iterdir())
        return list(csv.reader(io.StringIO(out.read_text(encoding="utf-8"), newline="")))

    ranking = read("Xếp hạng")
    assert len(ranking) - 1 == len(results.attempts)
    assert FORMULA_NAME in [row[2] for row in ranking]
    answers = read("Bài làm")
    assert len(answers) - 1 == results.answers
    typed = {row[6] for row in answers[1:]}
    assert any(t.replace("\r", "\n") in typed for t in FORMULA_TEXTS)
    assert answers[1][3] == "1"  # numbers stay numbers (not quoted text)
