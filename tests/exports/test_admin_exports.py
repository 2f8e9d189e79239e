"""Small admin exports through django-import-export resources, written formula-safe and audited."""

from __future__ import annotations

import io

import pytest
from django.contrib.admin import helpers
from django.urls import reverse

from accounts.models import AuditEvent
from exports.admin_actions import dataset_to_xlsx
from tests.exports.factories import FORMULA_NAME
from tests.exports.xlsx_read import read_book, sheet_rows, values

pytestmark = pytest.mark.django_db


def run_action(client, model: str, action: str, ids):
    url = reverse(f"admin:exports_{model}_changelist")
    return client.post(url, {"action": action, helpers.ACTION_CHECKBOX_NAME: [str(i) for i in ids]})


def test_participants_export_whole_for_organisers_with_formula_text(client, organiser_a, results):
    client.force_login(organiser_a)
    response = run_action(client, "participantexport", "export_participants_xlsx",
                          [r.pk for r in results.registrations])
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = read_book(response.content)
    rows = sheet_rows(book, "Thí sinh")
    header = [c.value for c in rows[0]]
    assert header == ["Mã đăng ký", "Cuộc thi", "Họ và tên", "Ngày sinh", "Đơn vị", "Số điện thoại",
                      "Số định danh cá nhân", "Đăng ký lúc (giờ Việt Nam)"]
    assert len(rows) - 1 == len(results.registrations)
    names = [r[2] for r in rows[1:]]
    evil = next(c for c in names if c.value == FORMULA_NAME)
    assert evil.data_type == "s"
    assert rows[1][0].data_type == "n"
    assert rows[1][3].data_type == "d"
    phones = {r[5].value for r in rows[1:]}
    assert phones == {r.user.phone for r in results.registrations}
    event = AuditEvent.objects.get(action="exports.admin_exported")
    assert event.actor == organiser_a
    assert event.data["rows"] == len(results.registrations)
    assert event.data["full_personal_data"] is True
    assert "phone" in event.data["personal_fields"]


def test_other_organisations_export_nothing(client, organiser_b, results):
    client.force_login(organiser_b)
    response = run_action(client, "participantexport", "export_participants_xlsx",
                          [r.pk for r in results.registrations])
    # The scoped changelist has none of these rows: Django answers "no items selected" (redirect).
    assert response.status_code == 302
    assert not AuditEvent.objects.filter(action="exports.admin_exported").exists()


def test_writers_cannot_open_the_participant_export(client, writer_a, results):
    client.force_login(writer_a)
    assert client.get(reverse("admin:exports_participantexport_changelist")).status_code == 403


def test_questions_and_contests_exports(client, judge_a, results):
    client.force_login(judge_a)
    response = run_action(client, "questionexport", "export_questions_xlsx", [q.pk for q in results.questions])
    rows = values(sheet_rows(read_book(response.content), "Câu hỏi"))
    assert rows[0][:3] == ["Mã câu hỏi", "Loại câu hỏi", "Nội dung"]
    assert len(rows) - 1 == 3
    assert any(str(cell).startswith("*Đáp án đúng") for cell in rows[1])
    response = run_action(client, "contestexport", "export_contests_xlsx", [results.round.contest.pk])
    rows = values(sheet_rows(read_book(response.content), "Cuộc thi"))
    assert rows[1][1] == results.round.contest.title
    assert rows[1][4:6] == [1, len(results.registrations)]


def test_dataset_writer_keeps_text_as_text():
    body = dataset_to_xlsx(headers=["a", "b"], rows=[["=1+1", -3], ["@x", None]], sheet_name="T")
    rows = sheet_rows(read_book(io.BytesIO(body).getvalue()), "T")
    assert [(c.value, c.data_type) for c in rows[1]] == [("=1+1", "s"), (-3, "n")]
    assert rows[2][0].value == "@x"


def test_exports_are_offered_from_the_contests_own_admin_lists(client, organiser_a, organiser_b, results):
    client.force_login(organiser_a)
    url = reverse("admin:contests_registration_changelist")
    response = client.post(url, {"action": "export_participants_xlsx",
                                 helpers.ACTION_CHECKBOX_NAME: [str(r.pk) for r in results.registrations]})
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert len(sheet_rows(read_book(response.content), "Thí sinh")) - 1 == len(results.registrations)
    response = client.post(reverse("admin:contests_contest_changelist"), {
        "action": "export_contests_xlsx", helpers.ACTION_CHECKBOX_NAME: [str(results.round.contest.pk)]})
    assert values(sheet_rows(read_book(response.content), "Cuộc thi"))[1][1] == results.round.contest.title
    client.force_login(organiser_b)  # another organisation's list has none of these rows: nothing exported
    response = client.post(url, {"action": "export_participants_xlsx",
                                 helpers.ACTION_CHECKBOX_NAME: [str(r.pk) for r in results.registrations]})
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action="exports.admin_exported").count() == 2
