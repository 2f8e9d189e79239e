"""Writes of surveys: the structure an organiser builds, a person's response, retention and account hooks.

Rules: a survey's questions, options and anonymity are locked once it has a response (results would no
longer mean what the questions say). A response is accepted only while the survey is published and open, from
someone in its audience; a non-anonymous one needs the explicit consent tick and is unique per person
(constraint); an anonymous one stores no account, no consent time, no exact time, and writes no audit event
(an audit row naming the actor would link the person to the survey).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.services import audit_record
from questionbank.sanitize import clean_text
from surveys import errors, selectors
from surveys.models import (
    CHOICE_KINDS,
    SCALE_VALUES,
    QuestionKind,
    Survey,
    SurveyAnswer,
    SurveyChoice,
    SurveyQuestion,
    SurveyResponse,
)

MAX_TEXT_ANSWER = 2000
MAX_CHOICES = 30
VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def survey_is_locked(survey: Survey) -> bool:
    return survey.pk is not None and SurveyResponse.objects.filter(survey_id=survey.pk).exists()


def survey_structure_check_editable(*, survey: Survey) -> None:
    if survey_is_locked(survey):
        raise errors.SurveyLocked()


def survey_question_choices_set(*, question: SurveyQuestion, texts: Sequence[str]) -> list[SurveyChoice]:
    """Replace the options of a choice question with ``texts`` (blank lines dropped, each cleaned as plain
    text). Raises ``SurveyLocked`` once the survey has responses, ``InvalidAnswers`` for fewer than two options."""
    survey_structure_check_editable(survey=question.survey)
    cleaned = [clean_text(t)[:300] for t in texts]
    cleaned = [t for t in cleaned if t]
    if question.kind in CHOICE_KINDS and not 2 <= len(cleaned) <= MAX_CHOICES:
        raise errors.InvalidAnswers({question.pk: _("Câu hỏi lựa chọn cần từ 2 đến 30 phương án.")})
    with transaction.atomic():
        SurveyChoice.objects.filter(question=question).delete()
        if question.kind not in CHOICE_KINDS:
            return []
        return SurveyChoice.objects.bulk_create([SurveyChoice(question=question, position=i, text=t)
                                                 for i, t in enumerate(cleaned, start=1)])


@dataclass
class RawAnswer:
    """One question's input as posted: chosen option ids, the "other" text, a scale value or free text."""

    choices: list[str] = field(default_factory=list)
    other: str = ""
    number: str = ""
    text: str = ""


def _respondent_unit_id(survey: Survey, user: Any) -> int | None:
    registration_unit = selectors.audience_contest_unit_id(survey=survey, user=user)
    if registration_unit is not None:
        return registration_unit
    try:
        return user.profile.unit_id
    except ObjectDoesNotExist:  # staff accounts have no citizen profile
        return None


def _validated(survey: Survey, answers: Mapping[int, RawAnswer]) -> list[SurveyAnswer]:
    problems: dict[int, str] = {}
    rows: list[SurveyAnswer] = []
    for question in survey.questions.prefetch_related("choices").order_by("position", "id"):
        raw = answers.get(question.pk) or RawAnswer()
        choice_ids = {c.pk: c for c in question.choices.all()}
        given: list[SurveyAnswer] = []
        if question.kind in CHOICE_KINDS:
            picked: list[int] = []
            for value in raw.choices:
                text = str(value).strip()
                if text == "other" and question.allow_other:
                    continue
                if not text.isdecimal() or int(text) not in choice_ids:
                    problems[question.pk] = _("Phương án không hợp lệ.")
                    break
                if int(text) not in picked:
                    picked.append(int(text))
            other_ticked = "other" in [str(v).strip() for v in raw.choices] and question.allow_other
            other = clean_text(raw.other)[:MAX_TEXT_ANSWER] if other_ticked else ""
            if other_ticked and not other:
                problems[question.pk] = _("Vui lòng ghi rõ lựa chọn “Khác”.")
            count = len(picked) + (1 if other_ticked else 0)
            if question.kind == QuestionKind.SINGLE and count > 1:
                problems[question.pk] = _("Chỉ chọn một phương án.")
            given = [SurveyAnswer(question=question, choice=choice_ids[c]) for c in picked]
            if other:
                given.append(SurveyAnswer(question=question, text=other))
        elif question.kind == QuestionKind.SCALE:
            value = str(raw.number).strip()
            if value:
                if not value.isdecimal() or int(value) not in SCALE_VALUES:
                    problems[question.pk] = _("Chọn một mức từ 1 đến 5.")
                else:
                    given = [SurveyAnswer(question=question, number=int(value))]
        else:
            text = clean_text(raw.text)
            if len(text) > MAX_TEXT_ANSWER:
                problems[question.pk] = _("Câu trả lời quá dài (tối đa 2.000 ký tự).")
            elif text:
                given = [SurveyAnswer(question=question, text=text)]
        if question.required and not given and question.pk not in problems:
            problems[question.pk] = _("Câu hỏi này bắt buộc.")
        rows.extend(given)
    if problems:
        raise errors.InvalidAnswers(problems)
    return rows


def survey_respond(*, survey: Survey, user: Any, answers: Mapping[int, RawAnswer], consent: bool = False,
                   now: dt.datetime | None = None) -> SurveyResponse:
    """Store one response. Raises ``SurveyNotOpen``, ``NotInAudience``, ``ConsentRequired`` (not anonymous and
    not ticked), ``AlreadyResponded`` (not anonymous, a second response — also when two arrive at once),
    ``InvalidAnswers`` (nothing stored). Anonymous: no account link, no consent time, no audit event."""
    now = now or timezone.now()
    survey = Survey.objects.get(pk=survey.pk)
    if not survey.is_open(now):
        raise errors.SurveyNotOpen()
    if not selectors.audience_includes(survey=survey, user=user):
        raise errors.NotInAudience()
    if not survey.anonymous:
        if selectors.has_responded(survey=survey, user=user):
            raise errors.AlreadyResponded()
        if not consent:
            raise errors.ConsentRequired()
    rows = _validated(survey, answers)
    anonymous = survey.anonymous
    try:
        with transaction.atomic():
            response = SurveyResponse.objects.create(
                survey=survey, is_anonymous=anonymous, user=None if anonymous else user,
                unit_id=_respondent_unit_id(survey, user), submitted_on=now.astimezone(VN_TZ).date(),
                consent_at=None if anonymous else now,
                notice_version="" if anonymous else settings.PRIVACY_NOTICE_VERSION)
            for row in rows:
                row.response = response
            SurveyAnswer.objects.bulk_create(rows)
            if not anonymous:
                audit_record(actor=user, action="survey.responded", target=survey, organisation=survey.organisation,
                             data={"answers": len(rows)})
    except IntegrityError as exc:  # a concurrent second response of the same person
        raise errors.AlreadyResponded() from exc
    return response


# --- Retention and the account hooks ------------------------------------------------------------------------


def link_retention_days() -> int:
    return int(getattr(settings, "SURVEY_RESPONSE_LINK_DAYS", 180))


def survey_responses_unlink_expired(*, now: dt.datetime | None = None) -> int:
    """Retention (Law 91/2025): the account link of a non-anonymous response is needed only to keep one response
    per person while the survey runs; ``SURVEY_RESPONSE_LINK_DAYS`` after the close it is removed. The answers,
    the unit and the day stay, so results do not change. Idempotent."""
    cutoff = (now or timezone.now()) - dt.timedelta(days=link_retention_days())
    return SurveyResponse.objects.filter(user__isnull=False, survey__closes_at__lt=cutoff).update(user=None)


def personal_data_export(user: Any) -> dict[str, Any]:
    """"Dữ liệu của tôi": the person's non-anonymous responses (anonymous ones cannot be found: by design)."""
    out = []
    for response in SurveyResponse.objects.filter(user_id=user.pk).select_related("survey"):
        out.append({"survey": response.survey.title, "submitted_on": response.submitted_on.isoformat(),
                    "consent_at": response.consent_at.isoformat() if response.consent_at else None,
                    "answers": [{"question": a.question.text, "choice": a.choice.text if a.choice else None,
                                 "number": a.number, "text": a.text}
                                for a in response.answers.select_related("question", "choice")]})
    return {"survey_responses": out}


def personal_data_anonymise(user: Any) -> None:
    """Account deletion: responses stay in the results without the link to the person; free texts they typed
    (which may name them) are wiped."""
    responses = SurveyResponse.objects.filter(user_id=user.pk)
    SurveyAnswer.objects.filter(response__in=responses, choice__isnull=True, number__isnull=True).delete()
    responses.update(user=None)


def survey_export_audit(*, actor: Any, survey: Survey, rows: int) -> None:
    audit_record(actor=actor, action="surveys.exported", target=survey, organisation=survey.organisation,
                 data={"responses": rows, "personal_fields": []})
