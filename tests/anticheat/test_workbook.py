"""The results workbook's "Cảnh báo" sheet: every flag with its evidence and the decision in force, typed and
formula-safe like the other sheets, network evidence masked when personal data is masked."""

from __future__ import annotations

import io

import pytest
from django.utils import timezone

from anticheat.checks.inexam import FlagSpec
from anticheat.models import FlagKind, Severity
from anticheat.services import attempt_review_decide, flags_store
from anticheat.workbook import SHEET_FLAGS, columns, mask_network
from exports.selectors import export_target
from exports.workbook import results_workbook_write
from tests.exports.factories import FORMULA_NAME, results_round
from tests.exports.xlsx_read import read_book, sheet_rows
from tests.factories import make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def flagged(org_a):
    data = results_round(org_a)
    a0, evil = data.attempts[0], data.attempts[-1]  # the last contestant's name is a formula
    flags_store(round=data.round, kinds=[FlagKind.PREDICTION_FARMING, FlagKind.FAST_ANSWERS], attempt_ids=None,
                settings={"farming_min_accounts": 8}, now=timezone.now(), specs=[
                    FlagSpec(a0.pk, FlagKind.PREDICTION_FARMING, Severity.HIGH, 20.0,
                             {"by": "network", "network": "113.161.42.0/24", "accounts": 20},
                             group_key="network:113.161.42.0/24"),
                    FlagSpec(evil.pk, FlagKind.FAST_ANSWERS, Severity.WARN, 0.5, {"share": 0.5})])
    attempt_review_decide(actor=make_staff(org_a, "judge"), attempt=a0, action="identity_check",
                          reason="=cmd|' /C calc'!A0")
    return data


def book(target, *, full):
    buffer = io.BytesIO()
    results_workbook_write(target=target, out=buffer, generated_by="Giám khảo", full_personal_data=full)
    return read_book(buffer.getvalue())


def test_the_flags_sheet_lists_flags_with_evidence_and_decisions(flagged):
    rows = sheet_rows(book(export_target(round_id=flagged.round.pk), full=True), SHEET_FLAGS)
    assert [c.value for c in rows[0]] == [c.header for c in columns(full_personal_data=True)]
    body = rows[1:]
    assert len(body) == 2
    first = [c.value for c in body[0]]
    assert first[1] == flagged.attempts[0].pk
    assert first[5] == "Nghiêm trọng"
    assert "113.161.42.0/24" in first[7]
    assert first[9] == "Yêu cầu xác minh danh tính"
    names = [r[2] for r in body]
    evil = next(c for c in names if c.value == FORMULA_NAME)
    assert evil.data_type == "s"
    reason = body[0][10]
    assert reason.value.startswith("=cmd")
    assert reason.data_type == "s"
    assert all(c.data_type != "f" for row in rows for c in row)


def test_network_evidence_is_masked_with_the_other_personal_data(flagged):
    rows = sheet_rows(book(export_target(round_id=flagged.round.pk), full=False), SHEET_FLAGS)
    text = " ".join(str(c.value) for row in rows for c in row)
    assert "113.161.42" not in text
    assert "113.161.*.*" in text
    assert mask_network("2001:db8:85a3::/64") == "2001:db8:*"
