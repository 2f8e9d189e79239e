"""Personal data rights: export (JSON), correction on the profile page (with frozen fields), deletion by
anonymisation, and the audit records each of these writes."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from accounts import services
from accounts.models import AuditEvent, CitizenProfile, OrganisationKind, User
from tests.factories import CitizenProfileFactory, OrganisationFactory, make_staff

pytestmark = pytest.mark.django_db

PROFILE = reverse("accounts:profile")
MY_DATA = reverse("accounts:my_data")
EXPORT = reverse("accounts:my_data_export")
DELETE = reverse("accounts:account_delete")
LOGIN = reverse("accounts:login")
PASSWORD = "mat-khau-an-toan-1"


@pytest.fixture
def person():
    profile = CitizenProfileFactory(
        user__full_name="Lê Thị Hồng Nhung", user__phone="0934567890", user__email="nhung@example.vn",
        date_of_birth=dt.date(2011, 9, 2), national_id="092311004567", guardian_name="Lê Văn Phụ Huynh",
        guardian_phone="0978123456", unit__name="Xã Thới Lai", unit__kind=OrganisationKind.COMMUNE,
    )
    CitizenProfile.objects.filter(pk=profile.pk).update(guardian_consent_at=profile.privacy_consent_at)
    return profile.user


@pytest.fixture
def registry_cleanup():
    added = []
    yield added
    for unregister, fn in added:
        unregister(fn)


def profile_post(user, **changes):
    profile = user.profile
    data = {"full_name": user.full_name, "phone": user.phone or "", "email": user.email or "",
            "date_of_birth": profile.date_of_birth.isoformat() if profile.date_of_birth else "",
            "unit": str(profile.unit_id), "national_id": profile.national_id}
    data.update(changes)
    return data


# --- Export ------------------------------------------------------------------------------------


def test_export_contains_profile_consents_log_and_contributed_sections(client, person, registry_cleanup):
    def attempts_exporter(user):
        return {"example_app_results": [{"user": user.pk, "score": 9}]}

    services.register_personal_data_exporter(attempts_exporter)
    registry_cleanup.append((services.unregister_personal_data_exporter, attempts_exporter))
    client.force_login(person)

    response = client.post(EXPORT)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"].startswith('attachment; filename="du-lieu-cua-toi-')
    assert "Lê Thị Hồng Nhung" in response.content.decode()  # readable UTF-8, not \\u escapes
    data = json.loads(response.content)
    assert data["account"]["full_name"] == "Lê Thị Hồng Nhung"
    assert data["account"]["phone"] == "0934567890"
    assert data["account"]["email"] == "nhung@example.vn"
    assert data["profile"]["date_of_birth"] == "2011-09-02"
    assert data["profile"]["national_id"] == "092311004567"
    assert data["profile"]["unit"]["name"] == "Xã Thới Lai"
    assert data["profile"]["guardian_name"] == "Lê Văn Phụ Huynh"
    assert data["consents"]["privacy_notice_version"] == "2026-01"
    assert data["consents"]["privacy_consent_at"]
    assert data["consents"]["guardian_consent_at"]
    assert data["example_app_results"] == [{"user": person.pk, "score": 9}]
    assert [e["action"] for e in data["processing_log"]] == ["personal_data.exported"]
    assert data["processing_log"][0]["by"] == "self"
    assert "password" not in json.dumps(data)
    assert AuditEvent.objects.filter(action="personal_data.exported", actor=person).count() == 1


def test_export_needs_login_and_post(client, person):
    assert client.post(EXPORT).status_code == 302
    client.force_login(person)
    assert client.get(EXPORT).status_code == 405


def test_exporter_may_not_overwrite_a_core_section(person, registry_cleanup):
    def bad_exporter(user):
        return {"account": {}}

    services.register_personal_data_exporter(bad_exporter)
    registry_cleanup.append((services.unregister_personal_data_exporter, bad_exporter))

    with pytest.raises(ValueError, match="account"):
        services.personal_data_export(user=person)


def test_my_data_page_shows_consents_and_actions(client, person):
    client.force_login(person)

    html = client.get(MY_DATA).content.decode()

    assert "Dữ liệu của tôi" in html
    assert "phiên bản 2026-01" in html
    assert EXPORT in html
    assert DELETE in html


# --- Correction --------------------------------------------------------------------------------


def test_citizen_corrects_own_data(client, person, sms_outbox, django_capture_on_commit_callbacks):
    new_unit = OrganisationFactory(name="Phường An Hoà")
    client.force_login(person)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(PROFILE, profile_post(person, full_name="Lê Thị Hồng Nhung Mới",
                                                     phone="+84 934 000 111", email="", unit=str(new_unit.pk),
                                                     national_id="", date_of_birth="2011-09-03"))

    assert response.status_code == 302
    person.refresh_from_db()
    assert person.full_name == "Lê Thị Hồng Nhung Mới"
    # A new phone number waits for the code sent to it (tests/accounts/test_contact_change.py); clearing the
    # e-mail applies at once.
    assert person.phone == "0934567890"
    assert [phone for phone, _message in sms_outbox] == ["0934000111"]
    assert person.email is None
    assert person.profile.unit == new_unit
    assert person.profile.national_id == ""
    assert person.profile.date_of_birth == dt.date(2011, 9, 3)
    event = AuditEvent.objects.get(action="profile.updated")
    assert sorted(event.data["fields"]) == ["date_of_birth", "email", "full_name", "national_id", "unit"]
    requested = AuditEvent.objects.get(action="account.contact_change_requested")
    assert requested.data == {"kind": "phone"}
    assert "0934000111" not in json.dumps(event.data) + json.dumps(requested.data)  # never values


def test_profile_page_shows_current_data(client, person):
    client.force_login(person)

    html = client.get(PROFILE).content.decode()

    for value in ("Lê Thị Hồng Nhung", "0934567890", "nhung@example.vn", "2011-09-02", "092311004567"):
        assert value in html


def test_correction_is_validated(client, person):
    other = CitizenProfileFactory(user__phone="0934111222").user
    client.force_login(person)

    bad_phone = client.post(PROFILE, profile_post(person, phone="12345"))
    taken = client.post(PROFILE, profile_post(person, phone=other.phone))
    bad_id = client.post(PROFILE, profile_post(person, national_id="12345"))
    nothing_left = client.post(PROFILE, profile_post(person, phone="", email=""))

    assert bad_phone.context["form"].has_error("phone", "invalid_phone")
    assert taken.context["form"].has_error("phone", "taken")
    assert "national_id" in bad_id.context["form"].errors
    assert nothing_left.context["form"].has_error("phone", "phone_or_email")
    person.refresh_from_db()
    assert person.phone == "0934567890"
    assert not AuditEvent.objects.filter(action="profile.updated").exists()


def test_frozen_fields_are_read_only_and_refused_by_the_service(client, person, registry_cleanup, mailoutbox,
                                                               django_capture_on_commit_callbacks):
    def after_first_attempt(user):
        return {"full_name", "date_of_birth", "national_id", "unit"}

    services.register_profile_freezer(after_first_attempt)
    registry_cleanup.append((services.unregister_profile_freezer, after_first_attempt))
    client.force_login(person)

    html = client.get(PROFILE).content.decode()
    assert "Đã khoá" in html
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(PROFILE, profile_post(person, full_name="Tên Khác", email="moi@example.vn"))

    assert response.status_code == 302
    person.refresh_from_db()
    assert person.full_name == "Lê Thị Hồng Nhung"  # disabled field: the posted value is ignored
    assert person.email == "nhung@example.vn"  # not frozen: a code went to the new address
    assert [m.to for m in mailoutbox] == [["moi@example.vn"]]
    assert services.profile_frozen_fields(person) == {"full_name", "date_of_birth", "national_id", "unit"}
    with pytest.raises(services.ProfileFrozenError):
        services.profile_update(user=person, changes={"full_name": "Tên Khác"})


def test_profile_requires_login(client):
    response = client.get(PROFILE)

    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)


# --- Deletion (anonymisation) -------------------------------------------------------------------


def row_text(table: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT row_to_json(t)::text FROM {table} t WHERE id = %s", [pk])  # noqa: S608
        return cursor.fetchone()[0]


def test_delete_account_anonymises_and_logs_out(client, person, registry_cleanup):
    calls = []

    def app_anonymiser(user):
        calls.append((user.pk, user.phone))  # runs before the user row is wiped

    services.register_anonymiser(app_anonymiser)
    registry_cleanup.append((services.unregister_anonymiser, app_anonymiser))
    profile_pk = person.profile.pk
    pii = ["Lê Thị Hồng Nhung", "0934567890", "nhung@example.vn", "2011-09-02", "092311004567",
           "Lê Văn Phụ Huynh", "0978123456"]
    client.force_login(person)

    response = client.post(DELETE, {"password": PASSWORD, "confirm": "on"})

    assert response.status_code == 302
    assert "_auth_user_id" not in client.session
    assert calls == [(person.pk, "0934567890")]
    user = User.objects.get(pk=person.pk)
    assert user.username == f"deleted-{person.pk}"
    assert user.full_name == ""
    assert user.phone is None
    assert user.email is None
    assert not user.is_active
    assert not user.has_usable_password()
    assert user.anonymised_at is not None
    profile = CitizenProfile.objects.get(pk=profile_pk)
    assert profile.date_of_birth is None
    assert profile.national_id == ""
    assert profile.guardian_name == ""
    assert profile.guardian_phone == ""
    assert profile.guardian_consent_at is None
    assert profile.unit is not None  # kept for collective statistics
    # No personal data anywhere in the stored rows, nor in the audit log.
    stored = row_text("accounts_user", person.pk) + row_text("accounts_citizenprofile", profile_pk)
    stored += json.dumps(list(AuditEvent.objects.values("reason", "data", "target_id")), default=str)
    for value in pii:
        assert value not in stored
    event = AuditEvent.objects.get(action="account.anonymised")
    assert event.actor_id == person.pk
    assert event.target_type == "accounts.user"
    assert event.target_id == str(person.pk)
    # Login is impossible with the old phone, e-mail or the new username.
    for login in ("0934567890", "nhung@example.vn", f"deleted-{person.pk}"):
        response = client.post(LOGIN, {"username": login, "password": PASSWORD})
        assert response.status_code == 200
        assert "_auth_user_id" not in client.session


def test_delete_requires_the_password_and_the_confirmation(client, person):
    client.force_login(person)

    wrong_password = client.post(DELETE, {"password": "sai", "confirm": "on"})
    unconfirmed = client.post(DELETE, {"password": PASSWORD})

    assert wrong_password.context["form"].has_error("password", "wrong_password")
    assert unconfirmed.context["form"].has_error("confirm", "required")
    person.refresh_from_db()
    assert person.is_active
    assert person.anonymised_at is None
    assert not AuditEvent.objects.filter(action="account.anonymised").exists()


def test_the_confirmation_box_is_not_pre_ticked(client, person):
    client.force_login(person)

    html = client.get(DELETE).content.decode()

    assert "checked" not in html.split('name="confirm"')[1].split(">")[0]


def test_staff_accounts_cannot_delete_themselves(client, org_a):
    staff = make_staff(org_a, "organiser")
    client.force_login(staff)

    response = client.post(DELETE, {"password": PASSWORD, "confirm": "on"})

    assert response.status_code == 200
    assert "Tài khoản cán bộ không thể tự xoá" in response.content.decode()
    staff.refresh_from_db()
    assert staff.is_active


def test_anonymise_is_idempotent(person):
    services.account_anonymise(user=person, actor=person)
    services.account_anonymise(user=User.objects.get(pk=person.pk), actor=None)

    assert AuditEvent.objects.filter(action="account.anonymised").count() == 1


def test_several_anonymised_accounts_coexist(person):
    other = CitizenProfileFactory().user

    services.account_anonymise(user=person, actor=person)
    services.account_anonymise(user=other, actor=other)

    assert User.objects.filter(anonymised_at__isnull=False, phone__isnull=True, email__isnull=True).count() == 2


# --- audit_record ------------------------------------------------------------------------------


def test_audit_record_accepts_anonymous_actor_and_makes_data_json_safe(person, org_a):
    from django.contrib.auth.models import AnonymousUser

    event = services.audit_record(actor=AnonymousUser(), action="test.action", target=person.profile,
                                  organisation=org_a, reason="lý do", data={"day": dt.date(2026, 1, 1), "n": 2})

    event.refresh_from_db()
    assert event.actor is None
    assert event.target_type == "accounts.citizenprofile"
    assert event.target_id == str(person.profile.pk)
    assert event.organisation == org_a
    assert event.reason == "lý do"
    assert event.data == {"day": "2026-01-01", "n": 2}
    assert services.audit_record(actor=person, action="x", organisation=org_a.pk).actor == person


def test_deletion_ends_the_accounts_other_sessions(client, person):
    other_device = Client()
    other_device.force_login(person)
    assert other_device.get(PROFILE).status_code == 200
    client.force_login(person)

    client.post(DELETE, {"password": PASSWORD, "confirm": "on"})

    response = other_device.get(PROFILE)
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)


def test_service_checks_formats_of_corrections(person):
    with pytest.raises(services.AccountError) as error:
        services.profile_update(user=person, changes={"national_id": "000311004567"})
    assert error.value.field == "national_id"
    with pytest.raises(services.AccountError):
        services.profile_update(user=person, changes={"phone": "12345"})
    person.refresh_from_db()
    assert person.profile.national_id == "092311004567"


def test_export_lists_staff_roles(org_a):
    staff = make_staff(org_a, "judge")

    data = services.personal_data_export(user=staff)

    assert data["staff_roles"] == [{"organisation": org_a.name, "role": "judge",
                                    "since": data["staff_roles"][0]["since"]}]
    assert data["profile"] is None


def test_password_change(client, person):
    client.force_login(person)
    url = reverse("accounts:password_change")

    wrong = client.post(url, {"old_password": "sai", "new_password1": "Cau-Rong-2026-moi",
                              "new_password2": "Cau-Rong-2026-moi"})
    right = client.post(url, {"old_password": PASSWORD, "new_password1": "Cau-Rong-2026-moi",
                              "new_password2": "Cau-Rong-2026-moi"})

    assert "Mật khẩu hiện tại không đúng." in wrong.content.decode()
    assert right.status_code == 302
    person.refresh_from_db()
    assert person.check_password("Cau-Rong-2026-moi")
    assert client.get(PROFILE).status_code == 200  # this session survives the change
    assert AuditEvent.objects.filter(action="account.password_changed", actor=person).exists()


def test_staff_without_citizen_profile_can_correct_their_name(client, org_a):
    staff = make_staff(org_a, "organiser")
    client.force_login(staff)

    response = client.post(PROFILE, {"full_name": "Cán Bộ Mới", "phone": staff.phone, "email": staff.email,
                                     "date_of_birth": "", "unit": "", "national_id": ""})

    assert response.status_code == 302
    staff.refresh_from_db()
    assert staff.full_name == "Cán Bộ Mới"
    assert not CitizenProfile.objects.filter(user=staff).exists()
