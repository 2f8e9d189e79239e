from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from accounts.models import AuditEvent
from accounts.services import profile_frozen_fields
from contests import errors
from contests.models import ContestVisibility, Registration
from contests.services.attempts.start import attempt_start
from contests.services.registrations import registration_correct, registration_create
from tests.contests.factories import ContestFactory
from tests.factories import CitizenProfileFactory, OrganisationFactory, make_staff

pytestmark = pytest.mark.django_db


def test_registration_snapshots_profile_and_defaults_unit(citizen, contest, org_a):
    registration = registration_create(user=citizen, contest=contest)
    assert registration.unit == org_a
    assert registration.full_name == citizen.full_name
    assert registration.date_of_birth == citizen.profile.date_of_birth
    assert registration.frozen_at is None


def test_registration_is_idempotent(citizen, contest):
    first = registration_create(user=citizen, contest=contest)
    assert registration_create(user=citizen, contest=contest) == first
    assert Registration.objects.filter(user=citizen).count() == 1


def test_chosen_unit_is_recorded(citizen, contest):
    other = OrganisationFactory()
    assert registration_create(user=citizen, contest=contest, unit=other).unit == other


@pytest.mark.parametrize(("years", "ok"), [(15, True), (14, False)])
def test_minimum_age_is_checked_on_today(org_a, years, ok):
    contest = ContestFactory(organisation=org_a, minimum_age=15)
    today = timezone.localdate()
    born = today.replace(year=today.year - years)
    user = CitizenProfileFactory(date_of_birth=born, guardian_consent_at=timezone.now()).user
    if ok:
        assert registration_create(user=user, contest=contest)
    else:
        with pytest.raises(errors.TooYoung):
            registration_create(user=user, contest=contest)


def test_minor_needs_guardian_consent(org_a):
    contest = ContestFactory(organisation=org_a, minimum_age=14)
    today = timezone.localdate()
    user = CitizenProfileFactory(date_of_birth=today.replace(year=today.year - 15)).user
    with pytest.raises(errors.GuardianConsentRequired):
        registration_create(user=user, contest=contest)


def test_unit_must_be_allowed(org_a, citizen):
    contest = ContestFactory(organisation=org_a)
    contest.allowed_units.set([OrganisationFactory()])
    with pytest.raises(errors.UnitNotEligible):
        registration_create(user=citizen, contest=contest)


def test_staff_of_the_organiser_may_not_compete(org_a):
    contest = ContestFactory(organisation=org_a)
    judge = make_staff(org_a, "judge")
    CitizenProfileFactory(user=judge)
    with pytest.raises(errors.StaffNotEligible):
        registration_create(user=judge, contest=contest)


@pytest.mark.parametrize("role", ["writer", "reviewer"])
def test_question_writers_and_reviewers_of_any_organisation_may_not_compete(org_a, role):
    """They can read the shared bank's keys, and every contest may draw shared questions."""
    contest = ContestFactory(organisation=org_a)
    elsewhere = make_staff(OrganisationFactory(), role)
    CitizenProfileFactory(user=elsewhere)
    with pytest.raises(errors.StaffNotEligible):
        registration_create(user=elsewhere, contest=contest)


def test_organiser_of_another_organisation_may_compete(org_a):
    contest = ContestFactory(organisation=org_a)
    organiser_elsewhere = make_staff(OrganisationFactory(), "organiser", "judge")
    CitizenProfileFactory(user=organiser_elsewhere)
    assert registration_create(user=organiser_elsewhere, contest=contest).contest == contest


def test_draft_contest_refuses_registration(org_a, citizen):
    contest = ContestFactory(organisation=org_a, visibility=ContestVisibility.DRAFT)
    with pytest.raises(errors.ContestNotPublished):
        registration_create(user=citizen, contest=contest)


def test_profile_freezes_after_first_attempt(citizen, registration, round_, now):
    assert profile_frozen_fields(citizen) == set()
    attempt_start(user=citizen, round=round_, now=now)
    assert {"full_name", "date_of_birth", "national_id", "unit"} <= profile_frozen_fields(citizen)


def test_organiser_correction_is_audited(citizen, registration, organiser_a, organiser_b):
    with pytest.raises(errors.ReasonRequired):
        registration_correct(actor=organiser_a, registration=registration, reason=" ",
                             changes={"full_name": "Nguyễn Văn Sửa"})
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        registration_correct(actor=organiser_b, registration=registration, reason="x",
                             changes={"full_name": "Nguyễn Văn Sửa"})
    fixed = registration_correct(actor=organiser_a, registration=registration, reason="Sai chính tả",
                                 changes={"full_name": "Nguyễn Văn Sửa", "date_of_birth": dt.date(1991, 1, 1)})
    assert fixed.full_name == "Nguyễn Văn Sửa"
    event = AuditEvent.objects.get(action="contests.registration_corrected")
    assert sorted(event.data["fields"]) == ["date_of_birth", "full_name"]
    assert "Sửa" not in str(event.data)


def test_one_national_id_registers_once_per_contest(org_a, contest):
    """A second account with the same ID number (one person, two accounts) is refused with a clear message
    and nothing is created; accounts without an ID number never collide; another contest is another matter."""
    first = CitizenProfileFactory(unit=org_a, national_id="092090001234")
    second = CitizenProfileFactory(unit=org_a, national_id="092090001234")
    registration_create(user=first.user, contest=contest)
    with pytest.raises(errors.NationalIdTaken) as refused:
        registration_create(user=second.user, contest=contest)
    assert "liên hệ ban tổ chức" in refused.value.message
    assert not Registration.objects.filter(user=second.user).exists()
    for _ in range(2):
        registration_create(user=CitizenProfileFactory(unit=org_a, national_id="").user, contest=contest)
    other = ContestFactory(organisation=org_a)
    assert registration_create(user=second.user, contest=other).national_id == "092090001234"
    # The database says the same if two registrations race past the check.
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Registration.objects.create(user=second.user, contest=contest, unit=org_a, full_name="X",
                                    national_id="092090001234")


def test_a_correction_may_not_give_a_registration_someone_elses_id(org_a, contest, organiser_a):
    taken = registration_create(user=CitizenProfileFactory(unit=org_a, national_id="092090001234").user,
                                contest=contest)
    mine = registration_create(user=CitizenProfileFactory(unit=org_a, national_id="092090005678").user,
                               contest=contest)
    with pytest.raises(errors.NationalIdTaken):
        registration_correct(actor=organiser_a, registration=mine, reason="Nhập nhầm",
                             changes={"national_id": taken.national_id})
    mine.refresh_from_db()
    assert mine.national_id == "092090005678"
