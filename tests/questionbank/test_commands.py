from __future__ import annotations

import io
import json
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from questionbank.importers.base import ParsedOption
from questionbank.models import Question, QuestionStatus, Visibility
from questionbank.services.questions import question_create, topic_get_or_create_path
from tests.questionbank.xlsx_helpers import VALID_ROWS, VI_HEADERS, workbook_bytes

pytestmark = pytest.mark.django_db


def _run(*args):
    out, err = io.StringIO(), io.StringIO()
    code = 0
    try:
        call_command("import_questions", *args, stdout=out, stderr=err)
    except SystemExit as exc:
        code = exc.code
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def valid_file(tmp_path):
    path = tmp_path / "ngan-hang.xlsx"
    path.write_bytes(workbook_bytes(VALID_ROWS))
    return path


def test_json_output_shape_and_success_exit(valid_file, org_a):
    code, out, _err = _run(str(valid_file), "--org", org_a.slug, "--json")
    assert code == 0
    payload = json.loads(out)
    assert set(payload) == {"imported", "unsupported", "warnings", "errors"}
    assert payload["imported"] == 3
    assert payload["errors"] == []
    assert Question.objects.filter(organisation=org_a, status=QuestionStatus.IN_REVIEW).count() == 3


def test_errors_exit_non_zero_and_import_nothing(tmp_path, org_a):
    bad = list(VALID_ROWS[0])
    bad[VI_HEADERS.index("Đáp án đúng")] = ""
    path = tmp_path / "loi.xlsx"
    path.write_bytes(workbook_bytes([VALID_ROWS[1], bad]))
    code, out, _err = _run(str(path), "--org", org_a.slug, "--json", "--format", "xlsx")
    assert code == 1
    payload = json.loads(out)
    assert payload["imported"] == 0
    assert payload["errors"] == [{"line": None, "row": 3, "message": payload["errors"][0]["message"]}]
    assert "đáp án" in payload["errors"][0]["message"]
    assert Question.objects.count() == 0


def test_hostile_file_is_a_clean_error(tmp_path, org_a):
    path = tmp_path / "gia.xlsx"
    path.write_bytes(b"not a spreadsheet at all")
    code, out, _err = _run(str(path), "--org", org_a.slug, "--json", "--format", "xlsx")
    assert code == 1
    payload = json.loads(out)
    assert payload["errors"][0]["row"] is None
    assert "zip" in payload["errors"][0]["message"]


def test_dry_run_imports_nothing(valid_file, org_a):
    code, out, _err = _run(str(valid_file), "--org", org_a.slug, "--json", "--dry-run")
    assert code == 0
    assert json.loads(out)["imported"] == 3  # what would be imported
    assert Question.objects.count() == 0
    code, out, _err = _run(str(valid_file), "--org", org_a.slug, "--dry-run")
    assert "Chạy thử" in out
    assert Question.objects.count() == 0


def test_human_output_and_duplicate_warnings(valid_file, org_a):
    assert _run(str(valid_file), "--org", org_a.slug)[0] == 0
    code, out, _err = _run(str(valid_file), "--org", org_a.slug, "--json")
    payload = json.loads(out)
    assert code == 0  # duplicates are warnings, not errors
    assert len(payload["warnings"]) == 3
    assert all(w["row"] in (2, 3, 4) for w in payload["warnings"])


def test_org_is_required_when_ambiguous(valid_file, org_a, org_b):
    with pytest.raises(CommandError, match="--org"):
        call_command("import_questions", str(valid_file))
    with pytest.raises(CommandError, match="không-có"):
        call_command("import_questions", str(valid_file), "--org", "không-có")


def test_missing_file(org_a, tmp_path):
    code, out, _err = _run(str(tmp_path / "khong-co.xlsx"), "--org", org_a.slug, "--json")
    assert code == 1
    assert json.loads(out)["errors"][0]["message"].startswith("Không mở được tệp")


def _snapshot(q: Question) -> tuple:
    return (q.type, q.stem, q.explanation, q.citation_document, q.citation_article, q.citation_clause,
            q.topic.path if q.topic else "", q.difficulty, q.default_points,
            tuple((o.text, o.fraction, o.feedback, o.tolerance) for o in q.options.order_by("position")),
            tuple(sorted(q.tags.values_list("name", flat=True))))


def test_export_import_round_trip(tmp_path, org_a, org_b):
    topic = topic_get_or_create_path(path=["Bộ luật Dân sự", "Giao dịch dân sự"])
    made = [
        question_create(
            organisation=org_a, author=None, type="single", topic=topic, difficulty="hard", points=Decimal("2.5"),
            stem="<p>Theo <b>Bộ luật Dân sự 2015</b>, người từ đủ bao nhiêu tuổi là người thành niên?</p>",
            explanation="Điều 20 BLDS 2015: người thành niên là người từ đủ 18 tuổi trở lên.",
            citation_document="91/2015/QH13", citation_article="20", citation_clause="1", tags=["dân sự", "tuổi"],
            options=[ParsedOption("Đủ 16 tuổi", Decimal(0), "Chưa đúng"), ParsedOption("Đủ 18 tuổi", Decimal(1)),
                     ParsedOption("Đủ 20 tuổi", Decimal(0))]),
        question_create(
            organisation=org_a, author=None, type="multiple", stem="Những giấy tờ nào là giấy tờ tuỳ thân hợp lệ?",
            options=[ParsedOption("Thẻ căn cước", Decimal("0.33333")), ParsedOption("Hộ chiếu", Decimal("0.33333")),
                     ParsedOption("Thẻ thư viện", Decimal("-0.5")),
                     ParsedOption("Giấy chứng nhận căn cước", Decimal("0.33334"))]),
        question_create(organisation=org_a, author=None, type="truefalse",
                                 stem="Người đủ 16 tuổi được lái xe mô tô dung tích 125 cm³.",
                                 options=[ParsedOption("Đúng"), ParsedOption("Sai", Decimal(1), "Cần đủ 18 tuổi")]),
        question_create(organisation=org_a, author=None, type="numeric",
                                 stem="Nồng độ cồn tối đa cho phép khi lái xe (mg/100 ml máu) là bao nhiêu?",
                                 options=[ParsedOption("0", Decimal(1), tolerance=Decimal("0")),
                                          ParsedOption("50", Decimal("0.5"), tolerance=Decimal("10"))]),
        question_create(organisation=org_a, author=None, type="short",
                                 stem="Cơ quan nào cấp thẻ căn cước?",
                                 options=[ParsedOption("Công an", Decimal(1)), ParsedOption("Bộ Công an", Decimal(1))]),
        question_create(organisation=org_a, author=None, type="essay",
                                 stem="Trình bày ý nghĩa của việc đăng ký kết hôn.", points=Decimal(10)),
    ]
    out_path = tmp_path / "xuat.xlsx"
    call_command("export_questions", str(out_path), "--org", org_a.slug, stdout=io.StringIO())
    code, out, _err = _run(str(out_path), "--org", org_b.slug, "--json")
    assert code == 0, out
    assert json.loads(out)["imported"] == len(made)
    imported = list(Question.objects.filter(organisation=org_b).order_by("id"))
    assert [_snapshot(q) for q in imported] == [_snapshot(q) for q in made]
    assert {q.visibility for q in imported} == {Visibility.SHARED}


def test_template_imports_as_empty(tmp_path, org_a):
    from questionbank.exporters.xlsx import write_template
    from questionbank.importers import xlsx
    path = tmp_path / "mau.xlsx"
    write_template(str(path))
    result = xlsx.parse(path.read_bytes())
    assert result.errors == []
    assert result.questions == []
    code, out, _err = _run(str(path), "--org", org_a.slug, "--json")
    assert code == 1
    assert "không có câu hỏi" in json.loads(out)["errors"][0]["message"]


def test_moodle_xml_file_end_to_end(org_a):
    """The Moodle XML parser's fixture through the command: nested topics, media stored and relinked,
    unsupported types listed, questions in review."""
    from questionbank.models import QuestionMedia

    code, out, _err = _run("tests/questionbank/fixtures/phap_luat_moodle.xml", "--org", org_a.slug, "--json")
    payload = json.loads(out)
    assert code == 0
    assert payload["errors"] == []
    assert payload["imported"] == Question.objects.count() > 0
    assert {u["type"] for u in payload["unsupported"]} >= {"cloze", "matching"}
    with_image = Question.objects.get(stem__contains="nhạy cảm")
    media = with_image.media.get()
    assert media.kind == QuestionMedia.Kind.IMAGE
    assert "@@PLUGINFILE@@" not in with_image.stem
    assert media.file.url in with_image.stem
    nested = Question.objects.filter(topic__name="Nồng độ cồn").first()
    assert nested.topic.parent.name == "Luật Giao thông đường bộ"
    assert set(Question.objects.values_list("status", flat=True)) == {QuestionStatus.IN_REVIEW}
