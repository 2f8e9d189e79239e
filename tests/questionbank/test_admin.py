from __future__ import annotations

import io

import openpyxl
import pytest
from django.contrib.admin import helpers
from django.urls import reverse

from accounts.models import Role
from questionbank.models import Question, QuestionStatus, Visibility
from tests.factories import make_staff
from tests.questionbank.factories import make_question
from tests.questionbank.xlsx_helpers import VALID_ROWS, workbook_bytes
from tests.tenancy_harness import assert_admin_closed, assert_admin_isolated

pytestmark = pytest.mark.django_db
CHANGELIST = "admin:questionbank_question_changelist"


def change_url(q):
    return reverse("admin:questionbank_question_change", args=[q.pk])


def _form_data(org, *, stem, type_="single", options=(("Đúng là A", "1"), ("Sai là B", "0")), status=None, **extra):
    data = {
        "organisation": str(org.pk), "visibility": "shared", "type": type_, "stem": stem, "explanation": "",
        "citation_document": "52/2014/QH13", "citation_article": "8", "citation_clause": "1", "topic": "",
        "topic_path": "Hôn nhân và gia đình > Kết hôn", "tag_names": "hôn nhân", "difficulty": "easy",
        "default_points": "1",
        "options-TOTAL_FORMS": str(len(options)), "options-INITIAL_FORMS": "0", "options-MIN_NUM_FORMS": "0",
        "options-MAX_NUM_FORMS": "20",
        "media-TOTAL_FORMS": "0", "media-INITIAL_FORMS": "0", "media-MIN_NUM_FORMS": "0", "media-MAX_NUM_FORMS": "1000",
    }
    for i, (text, fraction) in enumerate(options):
        data.update({f"options-{i}-position": str(i), f"options-{i}-text": text, f"options-{i}-fraction": fraction,
                     f"options-{i}-tolerance": "", f"options-{i}-feedback": ""})
    data.update(extra)
    return data


def test_private_question_of_another_org_is_isolated(client, org_a, org_b):
    private_b = make_question(org_b, visibility=Visibility.PRIVATE)
    assert_admin_isolated(client, private_b, foreign_user=make_staff(org_a, Role.WRITER, Role.REVIEWER,
                                                                     Role.ORGANISER))


def test_admin_closed_to_citizens(client, org_a, citizen):
    assert_admin_closed(client, make_question(org_a), user=citizen)


def test_shared_question_of_another_org_is_view_only(client, org_a, org_b):
    """A ward organiser/writer can read the city's shared questions but never change or delete them."""
    shared_b = make_question(org_b, visibility=Visibility.SHARED)
    before = Question.objects.filter(pk=shared_b.pk).values().get()
    user = make_staff(org_a, Role.WRITER, Role.REVIEWER, Role.ORGANISER)
    client.force_login(user)
    response = client.get(reverse(CHANGELIST))
    assert shared_b.pk in set(response.context["cl"].queryset.values_list("pk", flat=True))
    response = client.get(change_url(shared_b))
    assert response.status_code == 200
    assert not response.context["has_change_permission"]
    assert client.post(change_url(shared_b), _form_data(org_b, stem="Sửa trộm")).status_code == 403
    assert client.post(reverse("admin:questionbank_question_delete", args=[shared_b.pk]),
                       {"post": "yes"}).status_code == 403
    # Review actions on a foreign question fail in the service, not silently.
    Question.objects.filter(pk=shared_b.pk).update(status=QuestionStatus.IN_REVIEW)
    before["status"] = QuestionStatus.IN_REVIEW
    client.post(reverse(CHANGELIST), {"action": "action_approve", helpers.ACTION_CHECKBOX_NAME: [shared_b.pk]})
    after = Question.objects.filter(pk=shared_b.pk).values().get()
    after.pop("updated_at"), before.pop("updated_at")
    assert after == before


@pytest.mark.parametrize("role", [Role.ORGANISER, Role.JUDGE])
def test_organisers_and_judges_never_read_other_organisations_shared_keys(client, org_a, org_b, role):
    """They may compete in contests that draw shared questions, so the shared bank of others stays closed."""
    shared_b = make_question(org_b, visibility=Visibility.SHARED)
    own = make_question(org_a, visibility=Visibility.PRIVATE)
    client.force_login(make_staff(org_a, role))
    listed = set(client.get(reverse(CHANGELIST)).context["cl"].queryset.values_list("pk", flat=True))
    assert listed == {own.pk}
    assert client.get(change_url(shared_b)).status_code == 404
    assert client.get(reverse("questionbank:preview", args=[shared_b.pk])).status_code == 404
    assert client.get(reverse("questionbank:preview", args=[own.pk])).status_code == 200


def test_writer_creates_through_the_service(client, org_a):
    writer = make_staff(org_a, Role.WRITER)
    client.force_login(writer)
    response = client.post(reverse("admin:questionbank_question_add"),
                           _form_data(org_a, stem="Nam, nữ kết hôn phải <script>x()</script>đăng ký?"))
    assert response.status_code == 302, response.context["errors"] if response.context else response
    q = Question.objects.get()
    assert q.stem == "Nam, nữ kết hôn phải đăng ký?"
    assert (q.author, q.status, q.family_id) == (writer, QuestionStatus.DRAFT, q.pk)
    assert q.topic.path == "Hôn nhân và gia đình / Kết hôn"
    assert list(q.tags.values_list("name", flat=True)) == ["hôn nhân"]
    assert q.options.count() == 2
    assert q.search_key


def test_invalid_key_shows_form_errors(client, org_a):
    client.force_login(make_staff(org_a, Role.WRITER))
    response = client.post(reverse("admin:questionbank_question_add"),
                           _form_data(org_a, stem="Câu hỏi không có đáp án đúng?",
                                      options=(("A", "0"), ("B", "0"))))
    assert response.status_code == 200
    assert "Không có phương án đúng" in response.content.decode()
    assert Question.objects.count() == 0


def test_organiser_and_reviewer_cannot_add(client, org_a):
    for role in (Role.ORGANISER, Role.REVIEWER, Role.JUDGE):
        client.force_login(make_staff(org_a, role))
        response = client.post(reverse("admin:questionbank_question_add"), _form_data(org_a, stem="Không được"))
        assert response.status_code == 403
    assert Question.objects.count() == 0


def test_review_actions(client, org_a):
    writer = make_staff(org_a, Role.WRITER)
    reviewer = make_staff(org_a, Role.REVIEWER)
    q = make_question(org_a, status=QuestionStatus.DRAFT, author=writer)
    client.force_login(writer)
    client.post(reverse(CHANGELIST), {"action": "action_submit", helpers.ACTION_CHECKBOX_NAME: [q.pk]})
    q.refresh_from_db()
    assert q.status == QuestionStatus.IN_REVIEW
    # The writer has no approve action at all.
    response = client.get(reverse(CHANGELIST))
    assert "action_approve" not in response.content.decode()
    client.force_login(reviewer)
    response = client.post(reverse(CHANGELIST), {"action": "action_reject", helpers.ACTION_CHECKBOX_NAME: [q.pk]})
    assert response.status_code == 200  # asks for the reason first
    client.post(reverse(CHANGELIST), {"action": "action_reject", helpers.ACTION_CHECKBOX_NAME: [q.pk],
                                      "note": "Thiếu căn cứ"})
    q.refresh_from_db()
    assert (q.status, q.review_note) == (QuestionStatus.DRAFT, "Thiếu căn cứ")
    Question.objects.filter(pk=q.pk).update(status=QuestionStatus.IN_REVIEW)
    client.post(reverse(CHANGELIST), {"action": "action_approve", helpers.ACTION_CHECKBOX_NAME: [q.pk]})
    q.refresh_from_db()
    assert q.status == QuestionStatus.APPROVED


def test_template_download(client, org_a):
    client.force_login(make_staff(org_a, Role.ORGANISER))
    for url in (reverse("admin:questionbank_question_template"), reverse("questionbank:template")):
        response = client.get(url)
        assert response.status_code == 200
        assert "mau-nhap-cau-hoi.xlsx" in response["Content-Disposition"]
        wb = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
        headers = [c.value for c in next(wb["Câu hỏi"].iter_rows(max_row=1))]
        assert headers[:4] == ["Loại câu hỏi", "Nội dung câu hỏi", "Phương án A", "Tỉ lệ điểm A"]
        assert {"Đáp án đúng", "Giải thích", "Văn bản", "Điều", "Khoản", "Chủ đề", "Độ khó", "Điểm",
                "Nhãn"} <= set(headers)
        assert "Hướng dẫn" in wb.sheetnames


def test_export_action(client, org_a):
    q = make_question(org_a)
    client.force_login(make_staff(org_a, Role.ORGANISER))
    response = client.post(reverse(CHANGELIST), {"action": "action_export_xlsx",
                                                 helpers.ACTION_CHECKBOX_NAME: [q.pk]})
    assert response.status_code == 200
    wb = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    rows = list(wb["Câu hỏi"].iter_rows(values_only=True))
    assert len(rows) == 2
    assert rows[1][1] == q.stem


def test_import_preview_then_confirm(client, org_a):
    client.force_login(make_staff(org_a, Role.WRITER))
    url = reverse("admin:questionbank_question_import")
    assert client.get(url).status_code == 200
    upload = io.BytesIO(workbook_bytes(VALID_ROWS))
    upload.name = "cau-hoi.xlsx"
    response = client.post(url, {"file": upload, "organisation": org_a.pk, "format": "auto",
                                 "visibility": "private"})
    assert response.status_code == 200
    assert response.context["report"].valid == 3
    assert response.context["token"]
    assert Question.objects.count() == 0  # preview writes nothing
    response = client.post(url, {"token": response.context["token"]})
    assert response.status_code == 302
    assert Question.objects.filter(organisation=org_a, status=QuestionStatus.IN_REVIEW,
                                   visibility=Visibility.PRIVATE).count() == 3
    # The token is single-use.
    response = client.post(url, {"token": "reused-or-forged"})
    assert response.status_code == 302
    assert Question.objects.count() == 3


def test_import_preview_lists_errors_and_offers_no_confirm(client, org_a):
    client.force_login(make_staff(org_a, Role.WRITER))
    upload = io.BytesIO(b"PK\x03\x04 definitely not a workbook")
    upload.name = "hong.xlsx"
    response = client.post(reverse("admin:questionbank_question_import"),
                           {"file": upload, "organisation": org_a.pk, "format": "xlsx", "visibility": "shared"})
    assert response.status_code == 200
    assert response.context["report"].errors
    assert not response.context["token"]
    assert "hỏng" in response.content.decode()


def test_import_needs_writer_role_and_own_org(client, org_a, org_b):
    client.force_login(make_staff(org_a, Role.ORGANISER))
    assert client.get(reverse("admin:questionbank_question_import")).status_code == 403
    client.force_login(make_staff(org_a, Role.WRITER))
    upload = io.BytesIO(workbook_bytes(VALID_ROWS))
    upload.name = "cau-hoi.xlsx"
    response = client.post(reverse("admin:questionbank_question_import"),
                           {"file": upload, "organisation": org_b.pk, "format": "auto", "visibility": "shared"})
    assert response.status_code == 200
    assert "organisation" in response.context["form"].errors
    assert Question.objects.count() == 0


def test_preview_page_respects_visibility(client, org_a, org_b):
    private_b = make_question(org_b, visibility=Visibility.PRIVATE, stem="Câu riêng <b>đậm</b>")
    shared_b = make_question(org_b, visibility=Visibility.SHARED)
    client.force_login(make_staff(org_a, Role.WRITER))
    assert client.get(reverse("questionbank:preview", args=[private_b.pk])).status_code == 404
    assert client.get(reverse("questionbank:preview", args=[shared_b.pk])).status_code == 200


def test_edit_used_question_in_admin_makes_new_version(client, org_a):
    from questionbank.services._common import _used_checkers, register_used_checker

    writer = make_staff(org_a, Role.WRITER)
    q = make_question(org_a, status=QuestionStatus.APPROVED)
    drawn = {q.pk}

    def checker(question):
        return question.pk in drawn

    register_used_checker(checker)
    try:
        client.force_login(writer)
        data = _form_data(org_a, stem="Nội dung mới sau khi đã dùng trong đợt thi thứ nhất?",
                          options=(("Phương án mới 1", "0"), ("Phương án mới 2", "1")), topic_path="")
        response = client.post(change_url(q), data)
        assert response.status_code == 302
    finally:
        _used_checkers.remove(checker)
    new = Question.objects.get(family_id=q.family_id, is_current=True)
    assert new.pk != q.pk
    assert new.version == 2
    assert new.status == QuestionStatus.IN_REVIEW
    assert list(new.options.values_list("text", flat=True)) == ["Phương án mới 1", "Phương án mới 2"]
    old = Question.objects.get(pk=q.pk)
    assert old.stem == q.stem
    assert not old.is_current
    # The old version is read-only in the admin now.
    assert client.get(change_url(old)).context["has_change_permission"] is False


def test_changelist_query_count_does_not_grow_with_rows(client, org_a, django_assert_max_num_queries):
    from questionbank.services.questions import topic_get_or_create_path

    topic = topic_get_or_create_path(path=["Luật A", "Chương B", "Mục C"])
    for _ in range(30):
        make_question(org_a, topic=topic)
    client.force_login(make_staff(org_a, Role.REVIEWER))
    with django_assert_max_num_queries(15):
        response = client.get(reverse(CHANGELIST))
    assert response.status_code == 200
    assert "Luật A / Chương B / Mục C" in response.content.decode()
