"""manage.py export_results: full data, audited as the system or --as-user."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

from accounts.models import AuditEvent
from tests.exports.xlsx_read import read_book, sheet_rows

pytestmark = pytest.mark.django_db


def test_round_export_from_the_command_line(results, tmp_path):
    out = tmp_path / "ket-qua.xlsx"
    stdout = io.StringIO()
    call_command("export_results", "--round", str(results.round.pk), "--out", str(out), "--max-rows", "5",
                 stdout=stdout)
    report = json.loads(stdout.getvalue())
    assert report["rows"] == len(results.attempts) + results.answers
    book = read_book(str(out))
    assert "Bài làm (3)" in book.sheetnames
    header = [c.value for c in sheet_rows(book, "Xếp hạng")[0]]
    phones = [r[header.index("Số điện thoại")].value for r in sheet_rows(book, "Xếp hạng")[1:]]
    assert set(phones) == {r.user.phone for r in results.registrations}  # whole
    event = AuditEvent.objects.get(action="exports.results_exported")
    assert event.actor is None
    assert event.data["via"] == "command"
    assert event.data["full_personal_data"] is True
    assert event.target_type == "contests.round"


def test_contest_export_as_a_user_and_as_zipped_csv(results, tmp_path, judge_a):
    out = tmp_path / "bai-lam.zip"
    call_command("export_results", "--contest", str(results.round.contest.pk), "--out", str(out),
                 "--answers-csv", "--as-user", judge_a.username, stdout=io.StringIO())
    assert out.stat().st_size > 0
    assert AuditEvent.objects.get(action="exports.results_exported").actor == judge_a


def test_command_refuses_bad_input(results, tmp_path, organiser_b):
    out = str(tmp_path / "x.xlsx")
    with pytest.raises(CommandError):
        call_command("export_results", "--round", "999999", "--out", out)
    with pytest.raises(CommandError):
        call_command("export_results", "--round", str(results.round.pk), "--out", out, "--as-user", "khong-co")
    with pytest.raises(CommandError):
        call_command("export_results", "--round", str(results.round.pk), "--out", out,
                     "--as-user", organiser_b.username)
    with pytest.raises(CommandError):
        call_command("export_results", "--out", out)
