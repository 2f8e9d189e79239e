"""Issue 25, points 7 and 8 on the question's admin page: the correct option ticked (not typed), the writer's one
organisation preselected, tags shown on read-only pages, duplicate warnings that link to the other question."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.models import Role
from questionbank.models import Question, QuestionStatus
from tests.factories import OrganisationFactory, make_staff
from tests.questionbank.factories import make_question

pytestmark = pytest.mark.django_db


def add_data(org, *, type_="single", stem, options, ticks):
    data = {
        "organisation": str(org.pk), "visibility": "shared", "type": type_, "stem": stem, "explanation": "",
        "citation_document": "", "citation_article": "", "citation_clause": "", "topic": "", "topic_path": "",
        "tag_names": "đất đai, giao đất", "difficulty": "easy", "default_points": "1",
        "options-TOTAL_FORMS": str(len(options)), "options-INITIAL_FORMS": "0", "options-MIN_NUM_FORMS": "0",
        "options-MAX_NUM_FORMS": "20",
        "media-TOTAL_FORMS": "0", "media-INITIAL_FORMS": "0", "media-MIN_NUM_FORMS": "0", "media-MAX_NUM_FORMS": "1000",
    }
    for i, text in enumerate(options):
        data.update({f"options-{i}-text": text, f"options-{i}-fraction": "0", f"options-{i}-tolerance": "",
                     f"options-{i}-feedback": ""})
        if i in ticks:
            data[f"options-{i}-correct"] = "on"
    return data


def fractions(question):
    return [o.fraction for o in question.options.order_by("position")]


def test_ticking_the_correct_option_gives_the_credit(client, org_a):
    client.force_login(make_staff(org_a, Role.WRITER))
    url = reverse("admin:questionbank_question_add")
    response = client.post(url, add_data(org_a, stem="<p>Ai cấp giấy chứng nhận quyền sử dụng đất?</p>",
                                         options=["UBND cấp tỉnh", "Công an", "Tòa án"], ticks={0}))
    assert response.status_code == 302
    single = Question.objects.get(stem__contains="giấy chứng nhận")
    assert fractions(single) == [Decimal(1), Decimal(0), Decimal(0)]
    client.post(url, add_data(org_a, type_="multiple", stem="<p>Những ai là người sử dụng đất?</p>",
                              options=["Hộ gia đình", "Cá nhân", "Tổ chức", "Khách du lịch"], ticks={0, 1, 2}))
    multiple = Question.objects.get(stem__contains="người sử dụng đất")
    assert fractions(multiple) == [Decimal("0.33333"), Decimal("0.33333"), Decimal("0.33334"), Decimal(0)]


def test_no_tick_and_no_credit_is_refused_on_the_form(client, org_a):
    client.force_login(make_staff(org_a, Role.WRITER))
    response = client.post(reverse("admin:questionbank_question_add"),
                           add_data(org_a, stem="<p>Câu chưa có đáp án?</p>", options=["A", "B"], ticks=set()))
    assert response.status_code == 200
    assert "Không có phương án đúng." in response.content.decode()
    assert not Question.objects.exists()


def test_a_writer_of_one_organisation_finds_it_chosen(client, org_a, org_b):
    client.force_login(make_staff(org_a, Role.WRITER))
    form = client.get(reverse("admin:questionbank_question_add")).context["adminform"].form
    assert form.initial.get("organisation") == org_a.pk
    both = make_staff(org_a, Role.WRITER)
    from accounts.models import Membership

    Membership.objects.create(user=both, organisation=org_b, role=Role.WRITER)
    client.force_login(both)
    form = client.get(reverse("admin:questionbank_question_add")).context["adminform"].form
    assert "organisation" not in form.initial


def test_a_reviewer_reads_the_tags_and_the_ticks(client, org_a):
    question = make_question(org_a, tags=["đất đai", "giao đất"], status=QuestionStatus.IN_REVIEW)
    client.force_login(make_staff(org_a, Role.REVIEWER))
    page = client.get(reverse("admin:questionbank_question_change", args=[question.pk])).content.decode()
    assert "giao đất, đất đai" in page  # the tags' own order (by name)
    assert "Tag names" not in page
    assert "Topic path" not in page
    assert ">None<" not in page
    assert "✓" in page
    assert 'id="review-panel"' in page


def test_a_duplicate_warning_links_to_the_other_question(client, org_a):
    original = make_question(org_a, stem="<p>Người sử dụng đất có những quyền chung nào theo luật?</p>")
    client.force_login(make_staff(org_a, Role.WRITER))
    data = add_data(org_a, stem="<p>Người sử dụng đất có những quyền chung nào theo luật?</p>",
                    options=[o.text for o in original.options.order_by("position")], ticks={0})
    response = client.post(reverse("admin:questionbank_question_add"), data, follow=True)
    link = reverse("admin:questionbank_question_change", args=[original.pk])
    assert f'<a href="{link}">Mở câu hỏi #{original.pk}</a>' in response.content.decode()


def test_another_organisations_writer_gets_nothing_preselected_of_theirs(client, org_a):
    other = OrganisationFactory(name="Xã khác")
    client.force_login(make_staff(other, Role.WRITER))
    form = client.get(reverse("admin:questionbank_question_add")).context["adminform"].form
    assert form.initial.get("organisation") == other.pk
    assert org_a.pk not in set(form.fields["organisation"].queryset.values_list("pk", flat=True))
