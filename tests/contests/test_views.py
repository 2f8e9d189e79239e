"""Citizen pages: list, contest page, register, start → exam page, result, my attempts."""

from __future__ import annotations

import pytest
from django.urls import reverse

from contests.models import Attempt, ContestVisibility, Registration
from contests.services.attempts.finish import attempt_submit
from tests.contests.factories import ContestFactory
from tests.factories import CitizenProfileFactory

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore::UserWarning")]


def test_public_list_and_page(client, contest, round_):
    draft = ContestFactory(organisation=contest.organisation, visibility=ContestVisibility.DRAFT, title="Nháp kín")
    page = client.get(reverse("contests:list")).content.decode()
    assert contest.title in page
    assert draft.title not in page
    detail = client.get(contest.get_absolute_url())
    assert detail.status_code == 200
    body = detail.content.decode()
    assert "Thể lệ" in body
    assert round_.name in body
    assert "Đăng nhập để dự thi" in body
    assert reverse("leaderboards:round", kwargs={"round_id": round_.pk}) in body
    assert client.get(reverse("contests:detail", kwargs={"slug": draft.slug})).status_code == 404
    home = client.get(reverse("home")).content.decode()
    assert contest.title in home


def test_register_start_exam_submit_result_flow(client, citizen, contest, round_):
    client.force_login(citizen)
    response = client.post(reverse("contests:register", kwargs={"slug": contest.slug}))
    assert response.status_code == 302
    assert Registration.objects.filter(user=citizen, contest=contest).exists()
    response = client.post(reverse("contests:start", kwargs={"round_id": round_.pk}))
    attempt = Attempt.objects.get(user=citizen)
    assert response["Location"] == reverse("contests:exam", kwargs={"attempt_id": attempt.pk})
    exam = client.get(response["Location"])
    assert exam.status_code == 200
    assert exam.context["ws_url"] == f"/ws/attempts/{attempt.pk}/"
    assert exam.context["round"] == round_
    # Starting again resumes the same attempt.
    again = client.post(reverse("contests:start", kwargs={"round_id": round_.pk}))
    assert again["Location"] == response["Location"]
    # The result page of an attempt in progress sends back to the exam.
    result_url = reverse("contests:result", kwargs={"attempt_id": attempt.pk})
    assert client.get(result_url)["Location"] == response["Location"]
    attempt_submit(attempt=attempt)
    result = client.get(result_url)
    assert result.status_code == 200
    assert "Kết quả bài thi" in result.content.decode()
    assert reverse("leaderboards:round", kwargs={"round_id": round_.pk}) in result.content.decode()
    assert client.get(response["Location"])["Location"] == result_url
    mine = client.get(reverse("contests:my_attempts")).content.decode()
    assert contest.title in mine


def test_other_peoples_attempts_are_404(client, citizen, registration, round_, org_a):
    from contests.services.attempts.start import attempt_start

    attempt = attempt_start(user=citizen, round=round_)
    intruder = CitizenProfileFactory(unit=org_a).user
    client.force_login(intruder)
    assert client.get(reverse("contests:exam", kwargs={"attempt_id": attempt.pk})).status_code == 404
    assert client.get(reverse("contests:result", kwargs={"attempt_id": attempt.pk})).status_code == 404


def test_start_errors_are_shown_in_vietnamese(client, citizen, contest, round_):
    client.force_login(citizen)
    response = client.post(reverse("contests:start", kwargs={"round_id": round_.pk}), follow=True)
    assert "Bạn chưa đăng ký dự thi cuộc thi này." in response.content.decode()
    assert not Attempt.objects.exists()


def test_login_required_for_writes(client, contest, round_):
    response = client.post(reverse("contests:start", kwargs={"round_id": round_.pk}))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


def test_my_attempts_finalises_expired_attempts(client, citizen, registration, round_):
    import datetime as dt

    from contests.services.attempts.start import attempt_start

    attempt = attempt_start(user=citizen, round=round_, now=round_.opens_at + dt.timedelta(minutes=1))
    client.force_login(citizen)
    page = client.get(reverse("contests:my_attempts")).content.decode()
    attempt.refresh_from_db()
    assert attempt.status == "expired"
    assert attempt.submitted_at == attempt.deadline
    assert "Xem kết quả" in page


def test_exam_page_of_an_attempt_whose_time_is_up_leads_to_its_result(client, citizen, registration, round_):
    """The exam page only reads (the attempt is still in progress in the database when it redirects); the
    result page finishes it at its deadline and shows it as submitted automatically, with its score."""
    import datetime as dt

    from contests.services.attempts.start import attempt_start

    attempt = attempt_start(user=citizen, round=round_, now=round_.opens_at + dt.timedelta(minutes=1))
    client.force_login(citizen)
    exam = client.get(reverse("contests:exam", kwargs={"attempt_id": attempt.pk}))
    assert exam.status_code == 302
    assert exam["Location"] == reverse("contests:result", kwargs={"attempt_id": attempt.pk})
    attempt.refresh_from_db()
    assert attempt.status == "in_progress"
    page = client.get(exam["Location"])
    assert page.status_code == 200
    attempt.refresh_from_db()
    assert attempt.status == "expired"
    assert attempt.submitted_at == attempt.deadline
    assert attempt.score is not None
    html = page.content.decode()
    assert "tự động nộp khi hết giờ" in html
    assert f"{attempt.correct_count}/{attempt.question_count}" in html


def test_registration_offers_only_allowed_units(client, citizen, contest, org_a):
    from tests.factories import OrganisationFactory

    OrganisationFactory(name="Xã Không Được Chọn")
    contest.allowed_units.set([org_a])
    client.force_login(citizen)
    page = client.get(contest.get_absolute_url()).content.decode()
    assert org_a.name in page
    assert "Xã Không Được Chọn" not in page


@pytest.mark.parametrize(("language", "said"), [("", "Đăng ký dự thi thành công."),
                                                ("en", "You are registered for the contest.")])
def test_registration_is_confirmed_in_the_chosen_language(client, citizen, contest, round_, language, said):
    from django.conf import settings

    if language:
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    client.force_login(citizen)
    response = client.post(reverse("contests:register", kwargs={"slug": contest.slug}), follow=True)
    assert said in response.content.decode()


def test_a_second_account_with_the_same_id_number_is_told_why(client, citizen, contest, round_, org_a):
    from django.conf import settings

    citizen.profile.national_id = "092090001234"
    citizen.profile.save()
    twin = CitizenProfileFactory(unit=org_a, national_id="092090001234").user
    client.force_login(twin)
    client.post(reverse("contests:register", kwargs={"slug": contest.slug}))
    client.force_login(citizen)
    response = client.post(reverse("contests:register", kwargs={"slug": contest.slug}), follow=True)
    assert "đã được dùng để đăng ký cuộc thi bằng một tài khoản khác" in response.content.decode()
    assert not Registration.objects.filter(user=citizen).exists()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.post(reverse("contests:register", kwargs={"slug": contest.slug}), follow=True)
    assert "already been used to register for the contest with another account" in response.content.decode()
