"""Moodle XML export of a selection of saved questions — by ``export_questions`` and by the admin action —
imported back with ``import_questions --format moodle-xml`` into another organisation: the same questions."""

from __future__ import annotations

import base64
import io
import json
from decimal import Decimal

import pytest
from django.contrib.admin import helpers
from django.core.management import call_command
from django.urls import reverse

from accounts.models import Role
from questionbank.importers.base import ParsedOption
from questionbank.models import Question, Visibility
from questionbank.services.media import question_media_add
from questionbank.services.questions import question_create, topic_get_or_create_path
from tests.factories import make_staff

pytestmark = pytest.mark.django_db

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")


def _import(path, org) -> dict:
    out = io.StringIO()
    code = 0
    try:
        call_command("import_questions", str(path), "--org", org.slug, "--format", "moodle-xml", "--json",
                     stdout=out, stderr=io.StringIO())
    except SystemExit as exc:
        code = exc.code
    assert code == 0, out.getvalue()
    return json.loads(out.getvalue())


def _snapshot(q: Question) -> tuple:
    media = list(q.media.all())

    def plain(text: str) -> str:  # each copy links its own stored file
        for m in media:
            text = text.replace(m.file.url, "MEDIA")
        return text

    contents = []
    for m in media:
        with m.file.open("rb") as handle:
            contents.append((m.kind, handle.read()))
    return (q.type, plain(q.stem), q.explanation, q.citation_document, q.citation_article, q.citation_clause,
            q.topic.path if q.topic else "", q.difficulty, q.default_points,
            tuple((o.text, o.fraction, o.feedback, o.tolerance) for o in q.options.order_by("position")),
            tuple(sorted(q.tags.values_list("name", flat=True))), tuple(contents))


@pytest.fixture
def bank(org_a):
    traffic = topic_get_or_create_path(path=["Luật Giao thông đường bộ", "Nồng độ cồn"])
    civil = topic_get_or_create_path(path=["Bộ luật Dân sự", "Người thành niên"])
    made = [
        question_create(
            organisation=org_a, author=None, type="single", topic=civil, difficulty="hard", points=Decimal("2.5"),
            stem="<p>Theo <b>Bộ luật Dân sự 2015</b>, người từ đủ bao nhiêu tuổi là người thành niên?</p>",
            explanation="Điều 20 BLDS 2015: người thành niên là người từ đủ 18 tuổi trở lên.",
            citation_document="91/2015/QH13", citation_article="20", citation_clause="1", tags=["dân sự", "tuổi"],
            options=[ParsedOption("Đủ 16 tuổi", Decimal(0), "Chưa đúng"),
                     ParsedOption("Đủ 18 tuổi", Decimal(1), "Chính xác"),
                     ParsedOption("Đủ 20 tuổi", Decimal("-0.5"))]),
        question_create(
            organisation=org_a, author=None, type="multiple", difficulty="easy",
            stem="Những giấy tờ nào là giấy tờ tuỳ thân hợp lệ?", tags=["căn cước"],
            options=[ParsedOption("Thẻ căn cước", Decimal("0.5"), "Đúng"), ParsedOption("Hộ chiếu", Decimal("0.5")),
                     ParsedOption("Thẻ thư viện", Decimal("-1"), "Không phải giấy tờ tuỳ thân")]),
        question_create(organisation=org_a, author=None, type="truefalse", topic=traffic,
                                 stem="Người đủ 16 tuổi được lái xe mô tô dung tích 125 cm³.",
                                 citation_document="23/2008/QH12", citation_article="60",
                                 options=[ParsedOption("Đúng", Decimal(0), "Sai rồi"),
                                          ParsedOption("Sai", Decimal(1), "Cần đủ 18 tuổi")]),
        question_create(organisation=org_a, author=None, type="numeric", topic=traffic, difficulty="hard",
                                 stem="Nồng độ cồn tối đa cho phép khi lái xe (mg/100 ml máu) là bao nhiêu?",
                                 options=[ParsedOption("0", Decimal(1), "Đúng: cấm tuyệt đối", Decimal("0")),
                                          ParsedOption("50", Decimal("0.5"), "", Decimal("10"))]),
        question_create(organisation=org_a, author=None, type="short",
                                 stem="Cơ quan nào cấp thẻ căn cước?",
                                 options=[ParsedOption("Công an", Decimal(1)),
                                          ParsedOption("Bộ Công an", Decimal("0.8"))]),
        question_create(organisation=org_a, author=None, type="essay", topic=civil,
                                 stem="Trình bày ý nghĩa của việc đăng ký kết hôn.", points=Decimal(10),
                                 explanation="Luật Hôn nhân và gia đình 2014, Điều 9."),
    ]
    media = question_media_add(question=made[0], actor=None, filename="bien-bao.png", content=PNG)
    Question.objects.filter(pk=made[0].pk).update(
        stem=f'<p>Theo <b>Bộ luật Dân sự 2015</b>, xem hình: <img src="{media.file.url}"></p>')
    made[0].refresh_from_db()
    not_selected = question_create(organisation=org_a, author=None, type="essay",
                                            stem="Câu hỏi không được chọn để xuất.")
    return made, not_selected


def _check_imported(made, payload, org_b):
    assert payload["errors"] == []
    assert payload["unsupported"] == []
    assert payload["imported"] == len(made)
    imported = list(Question.objects.filter(organisation=org_b).order_by("id"))
    assert [_snapshot(q) for q in imported] == [_snapshot(q) for q in made]
    assert imported[0].media.get().file.url in imported[0].stem  # relinked to the imported copy


def test_command_exports_a_selection_as_moodle_xml(tmp_path, bank, org_b):
    made, _not_selected = bank
    path = tmp_path / "xuat.xml"  # format chosen by the extension
    out = io.StringIO()
    call_command("export_questions", str(path), "--ids", ",".join(str(q.pk) for q in made), stdout=out)
    assert f"Đã xuất {len(made)} câu hỏi" in out.getvalue()
    data = path.read_bytes()
    assert data.startswith(b"<?xml")
    assert "Câu hỏi không được chọn".encode() not in data
    assert "$course$/top/Luật Giao thông đường bộ/Nồng độ cồn".encode() in data
    _check_imported(made, _import(path, org_b), org_b)


def test_command_format_option_overrides_extension(tmp_path, bank, org_b):
    made, _ = bank
    path = tmp_path / "xuat.dat"
    call_command("export_questions", str(path), "--format", "moodle-xml",
                 "--ids", ",".join(str(q.pk) for q in made), stdout=io.StringIO())
    assert path.read_bytes().startswith(b"<?xml")
    xlsx_path = tmp_path / "xuat.bin"
    call_command("export_questions", str(xlsx_path), "--format", "xlsx", "--ids", str(made[0].pk),
                 stdout=io.StringIO())
    assert xlsx_path.read_bytes()[:2] == b"PK"  # a zip (xlsx), not XML


def test_admin_action_exports_the_selection(client, tmp_path, bank, org_a, org_b):
    made, _ = bank
    foreign = question_create(organisation=org_b, author=None, type="essay", visibility=Visibility.PRIVATE,
                                       stem="Câu hỏi riêng của xã khác.")
    client.force_login(make_staff(org_a, Role.ORGANISER))
    response = client.post(reverse("admin:questionbank_question_changelist"),
                           {"action": "action_export_moodle_xml",
                            helpers.ACTION_CHECKBOX_NAME: [q.pk for q in made] + [foreign.pk]})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/xml"
    assert "cau-hoi.xml" in response["Content-Disposition"]
    data = b"".join(response.streaming_content)
    assert "riêng của xã khác".encode() not in data  # same scoping as the changelist
    foreign.delete()
    path = tmp_path / "tu-admin.xml"
    path.write_bytes(data)
    _check_imported(made, _import(path, org_b), org_b)
