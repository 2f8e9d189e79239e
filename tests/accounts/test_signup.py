"""Citizen sign-up: validation, consent (never pre-ticked), guardian consent for minors, login after sign-up,
the per-address sign-up limit."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from accounts.forms import SignupForm
from accounts.models import AuditEvent, CitizenProfile, OrganisationKind, User
from accounts.services import RegistrationError, citizen_register
from tests.factories import OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db

SIGNUP = reverse("accounts:signup")
PASSWORD = "Bien-Hoa-2026-xanh"


def years_ago(years: int, extra_days: int = 0) -> dt.date:
    today = timezone.localdate()
    try:
        day = today.replace(year=today.year - years)
    except ValueError:  # 29 February
        day = today.replace(year=today.year - years, day=28)
    return day - dt.timedelta(days=extra_days)


@pytest.fixture
def unit():
    return OrganisationFactory(name="Phường Cái Khế", kind=OrganisationKind.WARD)


def form_data(unit_org, **overrides):
    data = {
        "full_name": "Trần Thị Bích",
        "date_of_birth": "1995-03-08",
        "unit": str(unit_org.pk),
        "phone": "0912 345 678",
        "email": "",
        "national_id": "",
        "password1": PASSWORD,
        "password2": PASSWORD,
        "guardian_name": "",
        "guardian_phone": "",
        "privacy_consent": "on",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def checkbox_html(html: str, name: str) -> str:
    match = re.search(rf'<input[^>]*name="{name}"[^>]*>', html)
    assert match, f"no input named {name}"
    return match.group(0)


def test_adult_signs_up_with_phone_and_is_logged_in(client, unit):
    response = client.post(SIGNUP, form_data(unit, national_id="092095001234"))

    assert response.status_code == 302
    user = User.objects.get(phone="0912345678")
    assert user.full_name == "Trần Thị Bích"
    assert user.email is None
    assert user.username.startswith("u-")
    assert "0912345678" not in user.username
    assert user.check_password(PASSWORD)
    profile = user.profile
    assert profile.unit == unit
    assert profile.date_of_birth == dt.date(1995, 3, 8)
    assert profile.national_id == "092095001234"
    assert profile.privacy_consent_at is not None
    assert profile.privacy_notice_version == settings.PRIVACY_NOTICE_VERSION
    assert profile.guardian_consent_at is None
    assert int(client.session["_auth_user_id"]) == user.pk
    event = AuditEvent.objects.get(action="account.registered")
    assert event.actor == user
    assert event.target_id == str(user.pk)
    assert event.organisation == unit
    assert event.data == {"privacy_notice_version": settings.PRIVACY_NOTICE_VERSION, "guardian_consent": False}


def test_signs_up_with_email_only(client, unit):
    response = client.post(SIGNUP, form_data(unit, phone="", email="Bich.Tran@Example.VN"))

    assert response.status_code == 302
    user = User.objects.get(email="bich.tran@example.vn")
    assert user.phone is None


def test_phone_or_email_is_required(client, unit):
    response = client.post(SIGNUP, form_data(unit, phone="", email=""))

    assert response.status_code == 200
    assert "Cần có số điện thoại hoặc email" in response.content.decode()
    assert not User.objects.exists()


@pytest.mark.parametrize("phone", ["12345", "0212345678", "091234567", "09123456789", "abc0912345"])
def test_bad_phone_is_rejected(client, unit, phone):
    response = client.post(SIGNUP, form_data(unit, phone=phone))

    assert response.status_code == 200
    assert response.context["form"].has_error("phone", "invalid_phone")
    assert not User.objects.exists()


@pytest.mark.parametrize("national_id", ["12345678901", "0920950012345", "09209500123a", "000095001234"])
def test_bad_national_id_is_rejected(client, unit, national_id):
    response = client.post(SIGNUP, form_data(unit, national_id=national_id))

    assert response.status_code == 200
    assert "national_id" in response.context["form"].errors
    assert not User.objects.exists()


def test_missing_consent_is_rejected(client, unit):
    data = form_data(unit)
    del data["privacy_consent"]

    response = client.post(SIGNUP, data)

    assert response.status_code == 200
    assert "Bạn cần đồng ý với Thông báo xử lý dữ liệu cá nhân" in response.content.decode()
    assert not User.objects.exists()


def test_consent_boxes_are_never_pre_ticked(client, unit):
    html = client.get(SIGNUP).content.decode()

    for name in ("privacy_consent", "guardian_consent"):
        assert "checked" not in checkbox_html(html, name)
    assert reverse("accounts:privacy_notice") in html
    # Not even when a caller passes a ticked initial value.
    form_html = str(SignupForm(initial={"privacy_consent": True, "guardian_consent": True}))
    for name in ("privacy_consent", "guardian_consent"):
        assert "checked" not in checkbox_html(form_html, name)


def test_service_refuses_registration_without_consent(unit):
    with pytest.raises(RegistrationError):
        citizen_register(full_name="A", password=PASSWORD, date_of_birth=dt.date(1990, 1, 1), unit=unit,
                         privacy_consent=False, phone="0912345678")
    assert not User.objects.exists()


@pytest.mark.parametrize(("field", "value"), [("phone", "12345"), ("national_id", "000095001234")])
def test_service_checks_formats_too(unit, field, value):
    kwargs = {"phone": "0912345678", field: value}
    with pytest.raises(RegistrationError) as error:
        citizen_register(full_name="A", password=PASSWORD, date_of_birth=dt.date(1990, 1, 1), unit=unit,
                         privacy_consent=True, **kwargs)
    assert error.value.field == field
    assert not User.objects.exists()


def test_minor_without_guardian_consent_is_rejected(client, unit):
    response = client.post(SIGNUP, form_data(unit, date_of_birth=years_ago(settings.GUARDIAN_CONSENT_AGE - 1)
                                             .isoformat()))

    assert response.status_code == 200
    form = response.context["form"]
    for name in ("guardian_name", "guardian_phone", "guardian_consent"):
        assert form.has_error(name, "guardian_required")
    assert not User.objects.exists()


def test_minor_with_name_and_phone_but_no_guardian_tick_is_rejected(client, unit):
    data = form_data(unit, date_of_birth=years_ago(14).isoformat(), guardian_name="Trần Văn Cha",
                     guardian_phone="0987654321")

    response = client.post(SIGNUP, data)

    assert response.status_code == 200
    assert response.context["form"].has_error("guardian_consent", "guardian_required")
    assert not User.objects.exists()


def test_service_refuses_minor_without_guardian_consent(unit):
    with pytest.raises(RegistrationError):
        citizen_register(full_name="A", password=PASSWORD, date_of_birth=years_ago(12), unit=unit,
                         privacy_consent=True, phone="0912345678", guardian_name="B", guardian_phone="0987654321")


def test_minor_with_guardian_consent_is_registered(client, unit):
    data = form_data(unit, date_of_birth=years_ago(14).isoformat(), guardian_name="Trần Văn Cha",
                     guardian_phone="+84 987 654 321", guardian_consent="on")

    response = client.post(SIGNUP, data)

    assert response.status_code == 302
    profile = CitizenProfile.objects.get(user__phone="0912345678")
    assert profile.guardian_name == "Trần Văn Cha"
    assert profile.guardian_phone == "0987654321"
    assert profile.guardian_consent_at is not None
    assert AuditEvent.objects.get(action="account.registered").data["guardian_consent"] is True


def test_person_turning_the_consent_age_today_needs_no_guardian(client, unit):
    response = client.post(SIGNUP, form_data(unit, date_of_birth=years_ago(settings.GUARDIAN_CONSENT_AGE)
                                             .isoformat()))

    assert response.status_code == 302
    assert User.objects.get().profile.guardian_consent_at is None


def test_date_of_birth_in_the_future_is_rejected(client, unit):
    tomorrow = timezone.localdate() + dt.timedelta(days=1)

    response = client.post(SIGNUP, form_data(unit, date_of_birth=tomorrow.isoformat()))

    assert response.context["form"].has_error("date_of_birth", "future")


def test_phone_already_registered_is_rejected(client, unit):
    UserFactory(phone="0912345678")

    response = client.post(SIGNUP, form_data(unit, phone="+84912345678"))

    assert response.context["form"].has_error("phone", "taken")
    assert User.objects.count() == 1


def test_email_already_registered_is_rejected_case_insensitively(client, unit):
    UserFactory(email="bich@example.vn")

    response = client.post(SIGNUP, form_data(unit, email="BICH@example.vn"))

    assert response.context["form"].has_error("email", "taken")


def test_password_mismatch_and_weak_password_are_rejected(client, unit):
    response = client.post(SIGNUP, form_data(unit, password2="something-else-2026"))
    assert response.context["form"].has_error("password2", "password_mismatch")

    response = client.post(SIGNUP, form_data(unit, password1="12345678", password2="12345678"))
    assert "password1" in response.context["form"].errors
    assert not User.objects.exists()


def test_only_active_units_are_offered_grouped_by_kind(client, unit):
    school = OrganisationFactory(name="Trường THPT Châu Văn Liêm", kind=OrganisationKind.SCHOOL)
    closed = OrganisationFactory(name="Phường Đã Giải Thể", is_active=False)
    not_a_unit = OrganisationFactory(name="Sở Tư pháp", kind=OrganisationKind.DEPARTMENT, is_unit=False)

    html = client.get(SIGNUP).content.decode()

    assert '<optgroup label="Phường">' in html
    assert '<optgroup label="Trường học">' in html
    assert unit.name in html
    assert school.name in html
    assert closed.name not in html
    assert not_a_unit.name not in html
    response = client.post(SIGNUP, form_data(unit, unit=str(not_a_unit.pk)))
    assert response.context["form"].has_error("unit", "invalid_choice")
    response = client.post(SIGNUP, form_data(unit, unit=str(closed.pk)))
    assert response.context["form"].has_error("unit", "invalid_choice")


def test_errors_are_linked_to_their_inputs_and_focused(client, unit):
    html = client.post(SIGNUP, form_data(unit, phone="123")).content.decode()

    phone_input = re.search(r'<input[^>]*name="phone"[^>]*>', html).group(0)
    assert 'aria-invalid="true"' in phone_input
    assert "id_phone_error" in phone_input
    assert "id_phone_helptext" in phone_input
    assert "autofocus" in phone_input
    assert 'id="id_phone_error"' in html
    assert 'role="alert"' in html
    assert '<label for="id_phone">' in html


def test_signup_is_limited_per_address(client, settings, unit):
    settings.SIGNUP_LIMIT_PER_ADDRESS = (2, 3600)
    for i in range(2):
        client.post(SIGNUP, form_data(unit, phone=f"091234560{i}"), REMOTE_ADDR="203.0.113.9")
        client.logout()

    blocked = client.post(SIGNUP, form_data(unit, phone="0912345609"), REMOTE_ADDR="203.0.113.9")
    other_address = client.post(SIGNUP, form_data(unit, phone="0912345608"), REMOTE_ADDR="203.0.113.10")

    assert blocked.status_code == 429
    assert "Bạn đã thử quá nhiều lần" in blocked.content.decode()
    assert other_address.status_code == 302
    assert User.objects.count() == 3


def test_forms_with_errors_do_not_count_against_the_signup_limit(client, settings, unit):
    settings.SIGNUP_LIMIT_PER_ADDRESS = (1, 3600)
    for _ in range(3):
        assert client.post(SIGNUP, form_data(unit, phone="12")).status_code == 200

    assert client.post(SIGNUP, form_data(unit)).status_code == 302


def test_logged_in_user_is_sent_to_profile(client, citizen):
    client.force_login(citizen)

    response = client.get(SIGNUP)

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:profile")


def test_privacy_notice_page_is_vietnamese_and_versioned(client):
    html = client.get(reverse("accounts:privacy_notice")).content.decode()

    assert settings.PRIVACY_NOTICE_VERSION in html
    for text in ("91/2025/QH15", "356/2025/NĐ-CP", "Thời gian lưu trữ", "Quyền của bạn", "Dữ liệu được thu thập"):
        assert text in html


def test_navigation_links_depend_on_login(client, citizen):
    page = reverse("accounts:privacy_notice")
    html = client.get(page).content.decode()
    assert f'href="{SIGNUP}"' in html
    assert f'href="{reverse("accounts:profile")}"' not in html

    client.force_login(citizen)
    html = client.get(page).content.decode()
    assert f'href="{reverse("accounts:profile")}"' in html
    assert f'href="{reverse("accounts:my_data")}"' in html
    assert f'href="{SIGNUP}"' not in html


def test_signup_page_reads_the_units_in_one_query(client, django_assert_num_queries):
    for i in range(20):
        OrganisationFactory(kind=OrganisationKind.COMMUNE if i % 2 else OrganisationKind.WARD)

    with django_assert_num_queries(1):
        assert client.get(SIGNUP).status_code == 200


def test_full_width_digits_are_stored_as_one_spelling(client, unit):
    """A phone keyboard may type full-width digits: the number and the ID number are stored in ASCII, so the
    uniqueness of each (and the ID number's once-per-contest rule) holds whatever was typed."""
    response = client.post(SIGNUP, form_data(unit, phone="０９１２ ３４５ ６７８",
                                             national_id="０９２０９５００１２３４"))

    assert response.status_code == 302
    user = User.objects.get()
    assert user.phone == "0912345678"
    assert user.profile.national_id == "092095001234"
    client.logout()
    again = client.post(SIGNUP, form_data(unit, phone="091234567８"))
    assert again.status_code == 200
    assert "phone" in again.context["form"].errors
    assert User.objects.count() == 1


def test_service_normalises_a_full_width_phone_number_itself(unit):
    user = citizen_register(full_name="A", password=PASSWORD, date_of_birth=dt.date(1990, 1, 1), unit=unit,
                            privacy_consent=True, phone="091234567８")

    assert user.phone == "0912345678"


def test_service_refuses_an_id_number_with_non_ascii_digits(unit):
    with pytest.raises(RegistrationError) as error:
        citizen_register(full_name="A", password=PASSWORD, date_of_birth=dt.date(1990, 1, 1), unit=unit,
                         privacy_consent=True, phone="0912345678", national_id="09209500123４")

    assert error.value.field == "national_id"
    assert not User.objects.exists()
