"""A phone number or e-mail address changed on the profile is confirmed by a code sent to the new address
(issue 16): the password-reset rate limits, one-time codes bound to the value, the old address told, audited.
Only the sending is replaced (tests.accounts.conftest.CapturingSmsSender, Django's locmem mail backend)."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts import contact_change, services
from accounts.jobs import purge_expired_contact_change_codes
from accounts.models import AuditEvent, ContactChangeCode, User
from tests.accounts.test_personal_data import person, profile_post, registry_cleanup  # noqa: F401
from tests.factories import CitizenProfileFactory

pytestmark = pytest.mark.django_db

PROFILE = reverse("accounts:profile")
NEW_PHONE = "0934000111"


def confirm_url(kind: str) -> str:
    return reverse("accounts:contact_confirm", kwargs={"kind": kind})


def code_in(message: str) -> str:
    return re.search(r"\b(\d{6})\b", message).group(1)


@pytest.fixture
def ask(client, person, django_capture_on_commit_callbacks):  # noqa: F811
    client.force_login(person)

    def post(**changes):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(PROFILE, profile_post(person, **changes), REMOTE_ADDR="203.0.113.7")
    return post


@pytest.fixture
def confirm(client, django_capture_on_commit_callbacks):
    def post(kind: str, code: str):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(confirm_url(kind), {f"{kind}-code": code}, REMOTE_ADDR="203.0.113.7", follow=True)
    return post


def test_a_new_phone_number_is_used_only_once_its_code_is_entered(ask, confirm, client, person, sms_outbox):  # noqa: F811
    response = ask(phone="+84 934 000 111")
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.phone == "0934567890"  # not yet
    [(to, message)] = sms_outbox
    assert to == NEW_PHONE
    assert "hieu luc 10 phut" in message
    page = client.get(PROFILE).content.decode()
    assert "Xác nhận số điện thoại mới" in page
    assert NEW_PHONE in page
    code = code_in(message)
    wrong = "000000" if code != "000000" else "111111"
    assert "Mã xác nhận không đúng hoặc đã hết hạn" in confirm("phone", wrong).content.decode()
    assert ContactChangeCode.objects.get(user=person).tries == 1
    page = confirm("phone", code).content.decode()
    assert "Đã đổi số điện thoại." in page
    person.refresh_from_db()
    assert person.phone == NEW_PHONE
    # The old number is told (it may be the real owner's), and the change is audited without the values.
    assert sms_outbox[-1][0] == "0934567890"
    assert "vua duoc doi" in sms_outbox[-1][1]
    changed = AuditEvent.objects.get(action="account.contact_changed", actor=person)
    assert changed.data == {"kind": "phone"}
    assert NEW_PHONE not in json.dumps(list(AuditEvent.objects.values_list("data", flat=True)))
    assert "Xác nhận số điện thoại mới" not in client.get(PROFILE).content.decode()
    assert "Mã xác nhận không đúng" in confirm("phone", code).content.decode()  # used once only
    client.logout()
    assert client.login(username=NEW_PHONE, password="mat-khau-an-toan-1")


def test_a_new_email_address_gets_its_code_by_mail(ask, confirm, person, mailoutbox):  # noqa: F811
    ask(email="Moi.Dia.Chi@Example.vn")
    [mail] = mailoutbox
    assert mail.to == ["moi.dia.chi@example.vn"]
    assert mail.subject == "Mã xác nhận đổi email"
    confirm("email", code_in(mail.body))
    person.refresh_from_db()
    assert person.email == "moi.dia.chi@example.vn"
    assert mailoutbox[-1].to == ["nhung@example.vn"]  # the old address is told


def test_the_requests_have_the_password_reset_limits(ask, person, sms_outbox, settings):  # noqa: F811
    settings.PASSWORD_RESET_LIMIT_PER_IDENTIFIER = (2, 3600)
    assert ask(phone=NEW_PHONE).status_code == 302
    assert ask(phone=NEW_PHONE).status_code == 302
    refused = ask(phone=NEW_PHONE, full_name="Tên Mới")
    assert refused.status_code == 429
    assert "Bạn đã thử quá nhiều lần" in refused.content.decode()
    assert len(sms_outbox) == 2
    person.refresh_from_db()
    assert person.full_name == "Lê Thị Hồng Nhung"  # a refused request changes nothing
    # Per account as well: another new number from the same account is refused too.
    assert ask(phone="0934000222").status_code == 429
    assert len(sms_outbox) == 2


def test_the_address_limit_is_the_reset_one(ask, sms_outbox, settings):
    settings.PASSWORD_RESET_LIMIT_PER_ADDRESS = (1, 3600)
    assert ask(phone=NEW_PHONE).status_code == 302
    assert ask(email="khac@example.vn").status_code == 429


def test_a_new_request_retires_the_earlier_code(ask, confirm, person, sms_outbox):  # noqa: F811
    ask(phone=NEW_PHONE)
    first = code_in(sms_outbox[0][1])
    ask(phone="0934000222")
    second = code_in(sms_outbox[1][1])
    if first != second:
        confirm("phone", first)
        person.refresh_from_db()
        assert person.phone == "0934567890"
    confirm("phone", second)
    person.refresh_from_db()
    assert person.phone == "0934000222"


def test_a_code_dies_after_the_allowed_wrong_tries(person, settings, sms_outbox,  # noqa: F811
                                                   django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        contact_change.contact_change_request(user=person, kind="phone", value=NEW_PHONE)
    code = code_in(sms_outbox[0][1])
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(settings.SMS_RESET_CODE_MAX_TRIES):
        with pytest.raises(contact_change.ContactCodeError):
            contact_change.contact_change_confirm(user=person, kind="phone", code=wrong)
    with pytest.raises(contact_change.ContactCodeError):
        contact_change.contact_change_confirm(user=person, kind="phone", code=code)
    assert User.objects.get(pk=person.pk).phone == "0934567890"


def test_an_expired_code_is_refused_and_purged(person, sms_outbox, django_capture_on_commit_callbacks):  # noqa: F811
    long_ago = timezone.now() - dt.timedelta(hours=1)
    with django_capture_on_commit_callbacks(execute=True):
        contact_change.contact_change_request(user=person, kind="phone", value=NEW_PHONE, now=long_ago)
    with pytest.raises(contact_change.ContactCodeError):
        contact_change.contact_change_confirm(user=person, kind="phone", code=code_in(sms_outbox[0][1]))
    assert purge_expired_contact_change_codes() == 1
    assert not ContactChangeCode.objects.exists()


def test_a_number_taken_meanwhile_is_refused_and_nothing_changes(person, sms_outbox,  # noqa: F811
                                                                 django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        contact_change.contact_change_request(user=person, kind="phone", value=NEW_PHONE)
    CitizenProfileFactory(user__phone=NEW_PHONE)
    with pytest.raises(services.AccountError) as error:
        contact_change.contact_change_confirm(user=person, kind="phone", code=code_in(sms_outbox[0][1]))
    assert error.value.field == "phone"
    assert User.objects.get(pk=person.pk).phone == "0934567890"
    assert not contact_change.contact_change_pending(user=person)  # that code is spent


def test_bad_current_taken_or_frozen_values_are_refused(person, registry_cleanup, sms_outbox):  # noqa: F811
    other = CitizenProfileFactory(user__email="ban@example.vn").user
    cases = [("phone", "12345"), ("phone", "0934567890"), ("email", "khong-phai-email"), ("email", other.email)]
    for kind, value in cases:
        with pytest.raises(services.AccountError) as error:
            contact_change.contact_change_request(user=person, kind=kind, value=value)
        assert error.value.field == kind
    def phone_frozen(user):
        return {"phone"}

    services.register_profile_freezer(phone_frozen)
    registry_cleanup.append((services.unregister_profile_freezer, phone_frozen))
    with pytest.raises(services.ProfileFrozenError):
        contact_change.contact_change_request(user=person, kind="phone", value=NEW_PHONE)
    assert not ContactChangeCode.objects.exists()
    assert sms_outbox == []


def test_the_profile_service_never_sets_a_new_address_without_a_code(person):  # noqa: F811
    with pytest.raises(services.AccountError) as error:
        services.profile_update(user=person, changes={"phone": NEW_PHONE})
    assert error.value.field == "phone"
    assert services.profile_update(user=person, changes={"email": ""}) == ["email"]  # clearing needs none


def test_someone_else_cannot_use_the_code_and_a_cancel_drops_it(ask, client, person, sms_outbox,  # noqa: F811
                                                                confirm):
    ask(phone=NEW_PHONE)
    code = code_in(sms_outbox[0][1])
    intruder = CitizenProfileFactory().user
    client.force_login(intruder)
    assert "Mã xác nhận không đúng" in confirm("phone", code).content.decode()
    assert User.objects.get(pk=intruder.pk).phone != NEW_PHONE
    client.force_login(person)
    client.post(reverse("accounts:contact_cancel", kwargs={"kind": "phone"}))
    assert not contact_change.contact_change_pending(user=person)
    assert AuditEvent.objects.filter(action="account.contact_change_cancelled").exists()
    assert "Mã xác nhận không đúng" in confirm("phone", code).content.decode()
    assert User.objects.get(pk=person.pk).phone == "0934567890"


def test_anonymising_the_account_drops_pending_changes(person):  # noqa: F811
    contact_change.contact_change_request(user=person, kind="email", value="moi@example.vn")
    services.account_anonymise(user=person, actor=person)
    assert not ContactChangeCode.objects.exists()


def test_my_data_lists_a_pending_change_without_its_code(client, person, sms_outbox,  # noqa: F811
                                                         django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        contact_change.contact_change_request(user=person, kind="phone", value=NEW_PHONE)
    client.force_login(person)
    data = json.loads(client.post(reverse("accounts:my_data_export")).content)
    [pending] = data["pending_contact_changes"]
    assert (pending["kind"], pending["new_value"]) == ("phone", NEW_PHONE)
    assert code_in(sms_outbox[0][1]) not in json.dumps(pending)
