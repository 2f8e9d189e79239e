"""Survey pages, the admin (tenancy harness), and the workbook (formula-safe, no personal data)."""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.urls import reverse

from accounts.models import AuditEvent
from surveys.models import Survey, SurveyResponse
from surveys.services import survey_respond
from tests.factories import CitizenProfileFactory, OrganisationFactory, make_staff
from tests.surveys.factories import answers_for, make_survey
from tests.tenancy_harness import assert_admin_closed, assert_admin_isolated

pytestmark = pytest.mark.django_db


def test_citizen_answers_through_the_page(client, org_a):
    survey = make_survey(org_a)
    citizen = CitizenProfileFactory(unit=org_a).user
    client.force_login(citizen)
    q = {x.position: x for x in survey.questions.prefetch_related("choices")}
    url = reverse("surveys:detail", args=[survey.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert 'name="consent"' in page.content.decode()
    assert "checked" not in page.content.decode().split('name="consent"')[1][:20]  # never pre-ticked
    data = {f"q{q[1].pk}": "other", f"q{q[1].pk}-other": "=HYPERLINK(\"http://x\")",
            f"q{q[2].pk}": [str(c.pk) for c in q[2].choices.all()[:2]], f"q{q[3].pk}": "5"}
    missing_consent = client.post(url, data)
    assert missing_consent.status_code == 200
    assert SurveyResponse.objects.count() == 0
    bad = client.post(url, {**data, f"q{q[3].pk}": "9", "consent": "on"})
    assert bad.status_code == 400
    assert "Chọn một mức từ 1 đến 5." in bad.content.decode()
    done = client.post(url, {**data, "consent": "on"})
    assert "Phiếu trả lời khảo sát" in done.content.decode()
    assert SurveyResponse.objects.get().user == citizen
    again = client.get(url)
    assert "Bạn đã trả lời khảo sát này" in again.content.decode()
    assert survey.title in client.get(reverse("surveys:list")).content.decode()


def test_a_draft_survey_is_a_404_for_citizens(client, org_a):
    survey = make_survey(org_a, status="draft")
    client.force_login(CitizenProfileFactory(unit=org_a).user)
    assert client.get(reverse("surveys:detail", args=[survey.pk])).status_code == 404


def test_results_and_export_are_for_the_owning_organisers_only(client, org_a, org_b, organiser_a):
    survey = make_survey(org_b, anonymous=True)
    urls = [reverse("surveys:results", args=[survey.pk]), reverse("surveys:export", args=[survey.pk])]
    for user, expected in ((organiser_a, 404), (CitizenProfileFactory(unit=org_b).user, 404),
                           (make_staff(org_b, "judge"), 404), (make_staff(org_b, "organiser"), 200)):
        client.force_login(user)
        for url in urls:
            assert client.get(url).status_code == expected, (user, url)


def test_export_is_formula_safe_and_names_nobody(client, org_a):
    survey = make_survey(org_a)
    organiser = make_staff(org_a, "organiser")
    for formula in ("=HYPERLINK(\"http://evil\",\"x\")", "+1+1", "@SUM(A1)"):
        citizen = CitizenProfileFactory(unit=org_a).user
        survey_respond(survey=survey, user=citizen, consent=True,
                       answers=answers_for(survey, text=formula, other="-2+3"))
    client.force_login(organiser)
    response = client.get(reverse("surveys:export", args=[survey.pk]))
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert book.sheetnames == ["Thông tin", "Tổng hợp", "Theo đơn vị", "Phiếu trả lời"]
    cells = [c for sheet in book for row in sheet.iter_rows() for c in row if c.value is not None]
    typed = {c.value: c.data_type for c in cells}
    for formula in ("=HYPERLINK(\"http://evil\",\"x\")", "+1+1", "@SUM(A1)"):
        assert typed[formula] == "s"
    assert typed["Khác: -2+3"] == "s"
    rows = list(book["Phiếu trả lời"].iter_rows(values_only=True))
    assert len(rows) == 4
    names = {u.full_name for u in type(organiser).objects.filter(survey_responses__survey=survey)}
    flat = " ".join(str(c.value) for c in cells)
    assert names
    assert not any(name in flat for name in names)
    assert AuditEvent.objects.filter(action="surveys.exported", actor=organiser).count() == 1


def test_survey_admin_is_isolated(client, org_a, org_b, organiser_a):
    survey = make_survey(org_b)
    assert_admin_isolated(client, survey, foreign_user=organiser_a)
    assert_admin_closed(client, survey, user=CitizenProfileFactory(unit=org_b).user)


def test_organiser_builds_a_survey_in_the_admin(client, org_a, organiser_a):
    client.force_login(organiser_a)
    other_unit = OrganisationFactory(name="Xã khác")
    data = {
        "organisation": org_a.pk, "title": "Khảo sát <b>thử</b>",
        "description": "<p>Giới thiệu</p><script>x()</script>",
        "status": "published", "audience": "unit", "audience_unit": other_unit.pk, "audience_contest": "",
        "opens_at_0": "01/01/2026", "opens_at_1": "00:00:00", "closes_at_0": "01/01/2027", "closes_at_1": "00:00:00",
        "questions-TOTAL_FORMS": "2", "questions-INITIAL_FORMS": "0", "questions-MIN_NUM_FORMS": "0",
        "questions-MAX_NUM_FORMS": "1000",
        "questions-0-position": "1", "questions-0-kind": "single", "questions-0-text": "Bạn ở đâu?",
        "questions-0-required": "on", "questions-0-allow_other": "on", "questions-0-choices_text": "Phường\nXã\n\n",
        "questions-1-position": "2", "questions-1-kind": "scale", "questions-1-text": "Mức hài lòng",
        "questions-1-required": "on", "questions-1-choices_text": "",
    }
    response = client.post(reverse("admin:surveys_survey_add"), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    survey = Survey.objects.get()
    assert survey.title == "Khảo sát thử"
    assert "script" not in survey.description
    assert survey.created_by == organiser_a
    assert [list(q.choices.values_list("text", flat=True)) for q in survey.questions.order_by("position")] == [
        ["Phường", "Xã"], []]
    # A choice question with one option is refused.
    data["title"] = "Khảo sát 2"
    data["questions-0-choices_text"] = "Chỉ một"
    assert client.post(reverse("admin:surveys_survey_add"), data).status_code == 200
    assert Survey.objects.count() == 1


def test_the_survey_list_shows_organisers_their_own_surveys_only(client, org_a, org_b, organiser_a):
    own = make_survey(org_a, title="Khảo sát của A", status="draft")
    make_survey(org_b, title="Khảo sát của B")
    client.force_login(organiser_a)
    page = client.get(reverse("surveys:list")).content.decode()
    assert "Khảo sát của A" in page
    assert reverse("surveys:results", args=[own.pk]) in page
    assert "Khảo sát của B" in page.split('id="managed-surveys"')[0]  # B's open survey is offered to answer …
    assert "Khảo sát của B" not in page.split('id="managed-surveys"')[1]  # … but not listed as managed
    client.force_login(CitizenProfileFactory(unit=org_a).user)
    assert 'id="managed-surveys"' not in client.get(reverse("surveys:list")).content.decode()


def test_export_of_an_anonymous_survey_folds_small_units(client, org_a, settings):
    settings.SURVEY_MIN_UNIT_GROUP = 2
    survey = make_survey(org_a, anonymous=True)
    big, small = OrganisationFactory(name="Phường Đông Dân"), OrganisationFactory(name="Xã Ít Người")
    for unit in (big, big, small):
        survey_respond(survey=survey, user=CitizenProfileFactory(unit=unit).user, answers=answers_for(survey))
    client.force_login(make_staff(org_a, "organiser"))
    response = client.get(reverse("surveys:export", args=[survey.pk]))
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    units = sorted(row[1] for row in book["Phiếu trả lời"].iter_rows(min_row=2, values_only=True))
    assert units == ["Các đơn vị khác (dưới 2 phiếu)", "Phường Đông Dân", "Phường Đông Dân"]
    assert not any("Xã Ít Người" in str(c.value) for sheet in book for row in sheet.iter_rows() for c in row)

