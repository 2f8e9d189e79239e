"""Registration for a contest: eligibility (unit, age, staff), the identifying snapshot and its freezing."""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.html import strip_tags

from accounts.models import CitizenProfile, Membership, Organisation, Role
from accounts.tenancy import require_role
from contests import errors
from contests.models import Answer, Attempt, Contest, Registration
from contests.services._common import audit, resolve_now
from questionbank.selectors import SHARED_BANK_ROLES

# What an essay answer says after its author deleted the account (the judges' marks stay; the text is gone).
ERASED_ESSAY_TEXT = "(Bài tự luận đã được xoá theo yêu cầu xoá tài khoản của người dự thi.)"

# Fields of the registration snapshot an organiser may correct after it is frozen.
CORRECTABLE_FIELDS = ("full_name", "date_of_birth", "national_id", "unit")


def age_on(born: dt.date, day: dt.date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def contest_eligibility_check(*, user: Any, contest: Contest, unit: Organisation | None,
                              date_of_birth: dt.date | None, today: dt.date) -> None:
    """Raise the first reason ``user`` may not take part in ``contest`` with ``unit``, if any."""
    # Members of the organising bodies may not compete in their own contest; question writers and reviewers
    # of any organisation read the shared bank's answer keys, which every contest may draw from.
    if Membership.objects.filter(Q(organisation_id=contest.organisation_id) | Q(role__in=SHARED_BANK_ROLES),
                                 user_id=user.pk).exists():
        raise errors.StaffNotEligible()
    if unit is None or not unit.is_unit or not unit.is_active:
        raise errors.ProfileIncomplete()
    allowed = list(contest.allowed_units.values_list("pk", flat=True))
    if allowed and unit.pk not in allowed:
        raise errors.UnitNotEligible()
    if contest.minimum_age is not None:
        if date_of_birth is None:
            raise errors.ProfileIncomplete()
        if age_on(date_of_birth, today) < contest.minimum_age:
            raise errors.TooYoung()


def registration_create(*, user: Any, contest: Contest, unit: Organisation | None = None,
                        now: dt.datetime | None = None) -> Registration:
    """Register ``user`` for ``contest`` with a snapshot of their profile (name, birth date, ID, unit).

    The unit defaults to the profile's unit. Checks: contest published, profile complete, unit eligible,
    minimum age on today's date, guardian consent for minors, organisation staff excluded. Registering
    twice returns the existing registration (idempotent). Raises the corresponding ``ContestError``.
    """
    now = resolve_now(now)
    if not contest.is_published:
        raise errors.ContestNotPublished()
    existing = Registration.objects.filter(user_id=user.pk, contest=contest).first()
    if existing is not None:
        return existing
    profile = CitizenProfile.objects.select_related("unit").filter(user_id=user.pk).first()
    if profile is None or not (user.full_name or "").strip():
        raise errors.ProfileIncomplete()
    unit = unit or profile.unit
    today = timezone.localdate(now)
    contest_eligibility_check(user=user, contest=contest, unit=unit, date_of_birth=profile.date_of_birth,
                              today=today)
    if (profile.date_of_birth is not None
            and age_on(profile.date_of_birth, today) < settings.GUARDIAN_CONSENT_AGE
            and profile.guardian_consent_at is None):
        raise errors.GuardianConsentRequired()
    national_id = profile.national_id or ""
    if national_id and Registration.objects.filter(contest=contest, national_id=national_id).exists():
        raise errors.NationalIdTaken()
    try:
        with transaction.atomic():
            return Registration.objects.create(
                user_id=user.pk, contest=contest, unit=unit, full_name=user.full_name.strip(),
                date_of_birth=profile.date_of_birth, national_id=national_id,
            )
    except IntegrityError:  # a concurrent registration won: the same person's (idempotent) or the same ID's
        existing = Registration.objects.filter(user_id=user.pk, contest=contest).first()
        if existing is None:
            raise errors.NationalIdTaken() from None
        return existing


def registration_correct(*, actor: Any, registration: Registration, reason: str,
                         changes: dict[str, Any], now: dt.datetime | None = None) -> Registration:
    """An organiser corrects the identifying fields of a (possibly frozen) registration; audited with the
    names of the fields changed (never their values: the log outlives account deletion)."""
    require_role(actor, registration.contest.organisation_id, [Role.ORGANISER])
    if not reason.strip():
        raise errors.ReasonRequired()
    unknown = set(changes) - set(CORRECTABLE_FIELDS)
    if unknown:
        raise errors.OverrideInvalid()
    with transaction.atomic():
        locked = Registration.objects.select_for_update().get(pk=registration.pk)
        changed = [name for name, value in changes.items() if getattr(locked, name) != value]
        if "national_id" in changed and changes["national_id"] and Registration.objects.filter(
                contest_id=locked.contest_id, national_id=changes["national_id"]).exclude(pk=locked.pk).exists():
            raise errors.NationalIdTaken()
        for name in changed:
            setattr(locked, name, changes[name])
        if changed:
            locked.full_clean(exclude=["user", "contest"])
            try:
                with transaction.atomic():
                    locked.save(update_fields=changed)
            except IntegrityError:
                if "national_id" not in changed:
                    raise
                raise errors.NationalIdTaken() from None  # a concurrent correction took this ID number
            if "unit" in changed:
                # The unit of attempts follows the corrected registration (collective rankings).
                locked.attempts.update(unit=locked.unit)
        audit(actor=actor, action="contests.registration_corrected", target=locked,
              organisation=locked.contest.organisation_id, reason=reason, data={"fields": changed})
    return locked


def frozen_profile_fields(user: Any) -> Iterable[str]:
    """Profile freezer (accounts.services registry): after a first attempt in any contest, the citizen can
    no longer change the fields that identify them there; corrections go through an organiser."""
    if not getattr(user, "pk", None):
        return ()
    if Registration.objects.filter(user_id=user.pk, frozen_at__isnull=False).exists():
        return ("full_name", "date_of_birth", "national_id", "unit")
    return ()


def _exported_answer(answer: Answer) -> dict[str, Any]:
    """One answer as its author sees it: the question as shown (no key, no correctness: the download must not
    reveal what is right before the contest's rules do), what they answered and when the server received it."""
    snapshot = answer.attempt_question.snapshot or {}
    response = answer.response or {}
    item: dict[str, Any] = {
        "position": answer.attempt_question.position,
        "question_type": snapshot.get("type"),
        "question": html.unescape(strip_tags(snapshot.get("stem", ""))).strip(),
        "received_at": answer.received_at.isoformat(),
        "revision": answer.revision,
    }
    if "options" in response:
        texts = {o.get("id"): o.get("text", "") for o in snapshot.get("options", [])}
        item["chosen_options"] = [texts.get(pk, "") for pk in response.get("options", [])]
    elif "number" in response:
        item["number"] = response.get("number")
    elif "text" in response:
        item["text"] = response.get("text")  # short answers and essays, in full
    return item


def personal_data_export(user: Any) -> dict[str, Any]:
    """Personal data download ("Dữ liệu của tôi"): the citizen's registrations, attempt results and every answer
    they gave (essay text included)."""
    registrations = [
        {"contest": r.contest.title, "unit": r.unit.name, "full_name": r.full_name,
         "date_of_birth": r.date_of_birth.isoformat() if r.date_of_birth else None,
         "national_id": r.national_id, "registered_at": r.created_at.isoformat(),
         "frozen_at": r.frozen_at.isoformat() if r.frozen_at else None}
        for r in Registration.objects.filter(user_id=user.pk).select_related("contest", "unit")
    ]
    answers: dict[int, list[dict[str, Any]]] = {}
    for answer in (Answer.objects.filter(attempt__user_id=user.pk).select_related("attempt_question")
                   .order_by("attempt_id", "attempt_question__position")):
        answers.setdefault(answer.attempt_id, []).append(_exported_answer(answer))
    attempts = [
        {"contest": a.round.contest.title, "round": a.round.name, "number": a.number, "status": a.status,
         "started_at": a.started_at.isoformat(),
         "submitted_at": a.submitted_at.isoformat() if a.submitted_at else None,
         "score": str(a.score) if a.score is not None else None, "correct_count": a.correct_count,
         "duration_ms": a.duration_ms, "prediction": a.prediction, "answers": answers.get(a.pk, [])}
        for a in Attempt.objects.filter(user_id=user.pk).select_related("round__contest").order_by("started_at")
    ]
    return {"contest_registrations": registrations, "contest_attempts": attempts}


def personal_data_anonymise(user: Any) -> None:
    """Account deletion: wipe the identifying snapshot of the citizen's registrations and the text of their
    essays (free text can name people, places, the author). Attempts, scores and the judges' marks stay
    (rankings and unit statistics remain valid) but no longer name anyone. Short text and numeric answers are
    kept: they are graded against the accepted answers and a rescore needs them."""
    Registration.objects.filter(user_id=user.pk).update(full_name="Người dùng đã xoá", date_of_birth=None,
                                                         national_id="")
    Answer.objects.filter(attempt__user_id=user.pk, attempt_question__snapshot__type="essay").update(
        response={"text": ERASED_ESSAY_TEXT})
