"""Issue 25, point 2: the bank's search as officials type (case- and diacritics-insensitive, article numbers,
question numbers) and its filters (topic with sub-topics, law, author, organisation, status, difficulty)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import Role
from questionbank.models import Question, QuestionStatus, Topic, Visibility
from questionbank.selectors import questions_search
from tests.factories import make_staff
from tests.questionbank.factories import make_question, single_options

pytestmark = pytest.mark.django_db
CHANGELIST = "admin:questionbank_question_changelist"

LAND = [
    "Theo Luật Đất đai 2024, người sử dụng đất có quyền gì?",
    "Luật Đất đai quy định thời hạn sử dụng đất nông nghiệp là bao lâu?",
    "Cơ quan nào lập quy hoạch theo LUẬT ĐẤT ĐAI?",
    "Theo luật đất đai, hộ gia đình được giao đất ở mức nào?",
    "Luật Đất Đai có hiệu lực từ ngày nào?",
]


@pytest.fixture
def land(org_a):
    questions = [make_question(org_a, stem=f"<p>{stem}</p>") for stem in LAND]
    make_question(org_a, stem="<p>Người điều khiển xe mô tô phải đội mũ bảo hiểm khi nào?</p>")
    make_question(org_a, stem="<p>Người thừa kế theo di chúc là ai?</p>", citation_document="91/2015/QH13",
                  citation_article="626")
    make_question(org_a, stem="<p>Thời hiệu khởi kiện về thừa kế?</p>", citation_document="91/2015/QH13",
                  citation_article="623")
    make_question(org_a, stem="<p>Bồi thường thiệt hại do vi phạm hợp đồng?</p>",
                  citation_document="91/2015/QH13", citation_article="172", citation_clause="2")
    return questions


def found(query):
    return set(questions_search(Question.objects.all(), query).values_list("pk", flat=True))


@pytest.mark.parametrize("query", ["Luật Đất đai", "luat dat dai", "LUẬT ĐẤT ĐAI", "LUAT DAT DAI", "luật đất đai"])
def test_search_ignores_case_and_diacritics(land, query):
    assert found(query) == {q.pk for q in land}


def test_search_finds_words_of_the_options_and_the_citation(land):
    assert len(found("nguoi dieu khien xe")) == 1
    by_article = dict(Question.objects.values_list("citation_article", "pk"))
    assert by_article["172"] in found("Điều 172")
    assert not found("Điều 172") & {by_article["626"], by_article["623"]}
    assert by_article["172"] in found("dieu 172 khoan 2")
    assert len(found("91/2015/QH13")) == 3


def test_search_by_question_number(land):
    assert found(str(land[2].pk)) >= {land[2].pk}
    assert land[2].pk in found(f"#{land[2].pk}")


def test_search_matches_every_word_and_empty_query_keeps_all(land):
    assert found("dat dai hieu luc") == {land[4].pk}
    assert found("   ") == set(Question.objects.values_list("pk", flat=True))
    assert found("khong co cau nao nhu the nay") == set()


def test_an_edit_and_an_import_keep_the_search_text(org_a, land):
    from questionbank.services.questions import question_update

    writer = make_staff(org_a, Role.WRITER)
    question_update(question=land[0], actor=writer, citation_article="45")
    assert land[0].pk in found("dieu 45")


def test_admin_search_box_uses_the_same_search(client, org_a, land):
    client.force_login(make_staff(org_a, Role.WRITER))
    response = client.get(reverse(CHANGELIST), {"q": "luat dat dai"})
    assert set(response.context["cl"].queryset.values_list("pk", flat=True)) == {q.pk for q in land}


def test_admin_search_never_shows_another_organisations_private_questions(client, org_a, org_b):
    make_question(org_b, stem="<p>Luật Đất đai riêng của xã khác?</p>", visibility=Visibility.PRIVATE)
    mine = make_question(org_a, stem="<p>Luật Đất đai của phường?</p>")
    client.force_login(make_staff(org_a, Role.WRITER))
    response = client.get(reverse(CHANGELIST), {"q": "dat dai"})
    assert set(response.context["cl"].queryset.values_list("pk", flat=True)) == {mine.pk}
    assert "riêng của xã khác" not in response.content.decode()


def test_filters_topic_with_subtopics_law_author_organisation_status_difficulty(client, org_a, org_b):
    land_topic = Topic.objects.create(name="Đất đai")
    sub = Topic.objects.create(name="Giao đất", parent=land_topic)
    other = Topic.objects.create(name="Giao thông")
    writer = make_staff(org_a, Role.WRITER, full_name="Trần Thị Soạn")
    in_parent = make_question(org_a, topic=land_topic, author=writer, citation_document="31/2024/QH15")
    in_sub = make_question(org_a, topic=sub, difficulty="hard", status=QuestionStatus.IN_REVIEW,
                           citation_document="31/2024/QH15")
    elsewhere = make_question(org_a, topic=other, citation_document="36/2024/QH15")
    shared_b = make_question(org_b, topic=sub, visibility=Visibility.SHARED)
    client.force_login(make_staff(org_a, Role.WRITER, Role.REVIEWER))

    def listed(**params):
        response = client.get(reverse(CHANGELIST), params)
        assert response.status_code == 200
        return set(response.context["cl"].queryset.values_list("pk", flat=True))

    assert listed(topic=land_topic.pk) == {in_parent.pk, in_sub.pk, shared_b.pk}
    assert listed(topic=sub.pk) == {in_sub.pk, shared_b.pk}
    assert listed(law="31/2024/QH15") == {in_parent.pk, in_sub.pk}
    assert listed(author=writer.pk) == {in_parent.pk}
    assert listed(owner="shared") == {shared_b.pk}
    assert listed(owner=org_a.pk) == {in_parent.pk, in_sub.pk, elsewhere.pk}
    assert listed(status__exact="in_review") == {in_sub.pk}
    assert listed(difficulty__exact="hard") == {in_sub.pk}
    page = client.get(reverse(CHANGELIST)).content.decode()
    for label in ("chủ đề (gồm chủ đề con)", "Đất đai / Giao đất", "văn bản pháp luật", "36/2024/QH15",
                  "Trần Thị Soạn"):
        assert label in page
    assert elsewhere.pk in listed()


def test_the_owner_and_author_filters_name_no_other_organisation(client, org_a, org_b):
    """The shared bank lends org B's questions to A's writers, but A's filters neither list B by name nor B's
    writers (non-negotiable 3: B's staff are B's people); B's questions are one "other organisations" choice.
    A superuser's filters list both organisations and both writers."""
    from django.contrib.auth import get_user_model

    writer_a = make_staff(org_a, Role.WRITER, full_name="Trần Thị Soạn")
    writer_b = make_staff(org_b, Role.WRITER, full_name="Phạm Văn Xã Khác")
    mine = make_question(org_a, author=writer_a)
    shared_b = make_question(org_b, author=writer_b, visibility=Visibility.SHARED)

    def choices(user):
        client.force_login(user)
        response = client.get(reverse(CHANGELIST))
        assert response.status_code == 200
        specs = {spec.parameter_name: dict(spec.lookup_choices) for spec in response.context["cl"].filter_specs
                 if hasattr(spec, "parameter_name")}
        return specs["owner"], specs["author"], response.content.decode()

    owner, author, page = choices(make_staff(org_a, Role.WRITER))
    assert owner == {str(org_a.pk): org_a.name, "shared": "Ngân hàng dùng chung (đơn vị khác)"}
    assert author == {str(writer_a.pk): "Trần Thị Soạn"}
    assert "Phạm Văn Xã Khác" not in page
    response = client.get(reverse(CHANGELIST), {"owner": org_b.pk})  # B's id typed in: its shared questions only
    assert set(response.context["cl"].queryset.values_list("pk", flat=True)) == {shared_b.pk}
    response = client.get(reverse(CHANGELIST), {"author": writer_b.pk})
    assert set(response.context["cl"].queryset.values_list("pk", flat=True)) == {shared_b.pk}
    assert mine.pk not in response.context["cl"].queryset.values_list("pk", flat=True)

    root = get_user_model().objects.create_superuser(username="root-owner", password="x-unused-9", email="")
    owner, author, _page = choices(root)
    assert {str(org_a.pk), str(org_b.pk)} <= set(owner)
    assert {str(writer_a.pk), str(writer_b.pk)} <= set(author)


def test_options_words_are_searchable(org_a):
    from questionbank.importers.base import ParsedOption

    q = make_question(org_a, options=[ParsedOption(text="Ủy ban nhân dân cấp xã", fraction=1),
                                      *single_options()[1:]])
    assert q.pk in found("uy ban nhan dan cap xa")
