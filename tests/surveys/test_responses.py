"""Responses: anonymity down to the database, one response per person, audience, window, consent, validation,
results per question and per unit, retention and the account hooks."""

from __future__ import annotations

import datetime as dt

import pytest
from django.apps import apps
from django.db import connection
from django.utils import timezone

from accounts.models import AuditEvent
from surveys import errors, selectors, services
from surveys.models import SurveyAnswer, SurveyResponse
from tests.contests.factories import ContestFactory, register
from tests.factories import CitizenProfileFactory, OrganisationFactory
from tests.surveys.factories import answers_for, make_survey

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner():
    return OrganisationFactory(name="Sở Tư pháp (thử)")


def rows_mentioning(user) -> dict[str, int]:
    """Rows of every table with a column pointing at the user (or holding their id as text)."""
    found = {}
    for model in apps.get_models():
        for f in model._meta.get_fields():
            if getattr(f, "related_model", None) is type(user) and f.concrete and not f.many_to_many:
                count = model._default_manager.filter(**{f.name: user}).count()
                if count:
                    found[f"{model._meta.label}.{f.name}"] = count
    return found


def test_an_anonymous_response_stores_no_link_to_the_person_at_all(owner):
    survey = make_survey(owner, anonymous=True)
    citizen = CitizenProfileFactory(unit=owner).user
    before = rows_mentioning(citizen)
    audit_before = AuditEvent.objects.count()
    response = services.survey_respond(survey=survey, user=citizen,
                                       answers=answers_for(survey, text="Cần thêm tài liệu", other=""))
    assert rows_mentioning(citizen) == before  # no new row anywhere points at the account
    assert AuditEvent.objects.count() == audit_before
    stored = SurveyResponse.objects.filter(pk=response.pk).values().get()
    assert stored["user_id"] is None
    assert stored["consent_at"] is None
    assert stored["notice_version"] == ""
    assert stored["submitted_on"] == timezone.localdate()  # a day, no time of day
    # In the database itself: no column of the response or its answers holds the user's id, name or phone.
    identifiers = {citizen.username, citizen.phone, citizen.full_name, citizen.email}
    with connection.cursor() as cursor:
        # Apart from the survey's author, the only column that can point at an account is the response's user_id.
        cursor.execute("""
            SELECT cl.relname, att.attname FROM pg_constraint con
            JOIN pg_class cl ON cl.oid = con.conrelid JOIN pg_class ref ON ref.oid = con.confrelid
            JOIN pg_attribute att ON att.attrelid = con.conrelid AND att.attnum = ANY (con.conkey)
            WHERE con.contype = 'f' AND ref.relname = 'accounts_user' AND cl.relname LIKE 'surveys_%%'
            ORDER BY 1, 2""")
        assert cursor.fetchall() == [("surveys_survey", "created_by_id"), ("surveys_surveyresponse", "user_id")]
        cursor.execute("SELECT row_to_json(r)::text FROM surveys_surveyresponse r WHERE id = %s", [response.pk])
        response_json = cursor.fetchone()[0]
        cursor.execute("SELECT string_agg(row_to_json(a)::text, ',') FROM surveys_surveyanswer a "
                       "WHERE response_id = %s", [response.pk])
        answers_json = cursor.fetchone()[0]
    for text in (response_json, answers_json):
        for value in identifiers:
            assert value not in text
    # And the database refuses an account on an anonymous response, whatever the code does.
    with pytest.raises(Exception, match="response_anonymous_has_no_user"):
        SurveyResponse.objects.filter(pk=response.pk).update(user=citizen)


def test_anonymous_surveys_do_not_track_who_answered(owner):
    survey = make_survey(owner, anonymous=True)
    citizen = CitizenProfileFactory(unit=owner).user
    services.survey_respond(survey=survey, user=citizen, answers=answers_for(survey))
    assert selectors.has_responded(survey=survey, user=citizen) is False
    services.survey_respond(survey=survey, user=citizen, answers=answers_for(survey))
    assert SurveyResponse.objects.filter(survey=survey).count() == 2


def test_one_response_per_person_when_not_anonymous(owner):
    survey = make_survey(owner)
    citizen = CitizenProfileFactory(unit=owner).user
    with pytest.raises(errors.ConsentRequired):
        services.survey_respond(survey=survey, user=citizen, answers=answers_for(survey))
    response = services.survey_respond(survey=survey, user=citizen, answers=answers_for(survey), consent=True)
    assert response.user == citizen
    assert response.consent_at is not None
    assert response.notice_version
    with pytest.raises(errors.AlreadyResponded):
        services.survey_respond(survey=survey, user=citizen, answers=answers_for(survey), consent=True)
    assert AuditEvent.objects.filter(action="survey.responded", actor=citizen).count() == 1
    # The database holds the rule too (a second row for the same person is refused).
    with pytest.raises(Exception, match="survey_response_once_per_user"):
        SurveyResponse.objects.create(survey=survey, is_anonymous=False, user=citizen,
                                      submitted_on=timezone.localdate())


def test_audience_window_and_status(owner):
    ward, other_ward = OrganisationFactory(name="Phường A"), OrganisationFactory(name="Phường B")
    inside, outside = CitizenProfileFactory(unit=ward).user, CitizenProfileFactory(unit=other_ward).user
    by_unit = make_survey(owner, anonymous=True, audience="unit", audience_unit=ward)
    with pytest.raises(errors.NotInAudience):
        services.survey_respond(survey=by_unit, user=outside, answers=answers_for(by_unit))
    services.survey_respond(survey=by_unit, user=inside, answers=answers_for(by_unit))
    contest = ContestFactory(organisation=owner)
    by_contest = make_survey(owner, anonymous=True, audience="contest", audience_contest=contest)
    with pytest.raises(errors.NotInAudience):
        services.survey_respond(survey=by_contest, user=inside, answers=answers_for(by_contest))
    register(inside, contest)
    services.survey_respond(survey=by_contest, user=inside, answers=answers_for(by_contest))
    assert [s.pk for s in selectors.surveys_open_for(user=outside, now=timezone.now())] == []
    now = timezone.now()
    closed = make_survey(owner, anonymous=True, opens_at=now - dt.timedelta(days=9),
                         closes_at=now - dt.timedelta(days=1))
    draft = make_survey(owner, anonymous=True, status="draft")
    for survey in (closed, draft):
        with pytest.raises(errors.SurveyNotOpen):
            services.survey_respond(survey=survey, user=inside, answers=answers_for(survey))


def test_invalid_answers_store_nothing(owner):
    survey = make_survey(owner, anonymous=True)
    citizen = CitizenProfileFactory(unit=owner).user
    answers = answers_for(survey)
    q = {x.position: x for x in survey.questions.all()}
    answers[q[1].pk].choices = ["999999"]
    answers[q[3].pk].number = "6"
    with pytest.raises(errors.InvalidAnswers) as caught:
        services.survey_respond(survey=survey, user=citizen, answers=answers)
    assert set(caught.value.problems) == {q[1].pk, q[3].pk}
    other_empty = answers_for(survey, other="")
    other_empty[q[1].pk].choices = ["other"]
    with pytest.raises(errors.InvalidAnswers):
        services.survey_respond(survey=survey, user=citizen, answers=other_empty)
    assert SurveyResponse.objects.count() == 0
    assert SurveyAnswer.objects.count() == 0


def test_results_per_question_and_per_unit(owner, settings):
    settings.SURVEY_MIN_UNIT_GROUP = 2
    big, small = OrganisationFactory(name="Phường Lớn"), OrganisationFactory(name="Xã Nhỏ")
    survey = make_survey(owner, anonymous=True)
    for unit, channel, scale in ((big, 0, 5), (big, 0, 4), (big, 1, 3), (small, 2, 1)):
        services.survey_respond(survey=survey, user=CitizenProfileFactory(unit=unit).user,
                                answers=answers_for(survey, channel=channel, scale=scale, text="Góp ý " + unit.name))
    services.survey_respond(survey=survey, user=CitizenProfileFactory(unit=big).user,
                            answers=answers_for(survey, other="Zalo", topics=(0, 2)))
    results = selectors.survey_results(survey=survey)
    assert results["total"] == 5
    channel, topics, scale, text = results["questions"]
    assert [(o.label, o.count) for o in channel.options] == [("Mạng xã hội", 2), ("Truyền hình", 1),
                                                             ("Loa phường", 1), ("Khác", 1)]
    assert channel.options[0].share == pytest.approx(0.4)
    assert channel.texts == ["Zalo"]
    assert [(o.label, o.count) for o in topics.options] == [("Đất đai", 5), ("Giao thông", 0), ("Hôn nhân", 1)]
    assert [o.count for o in scale.options] == [1, 0, 1, 2, 1]
    assert scale.mean == pytest.approx((5 + 4 + 3 + 1 + 4) / 5)
    assert sorted(text.texts) == ["Góp ý Phường Lớn"] * 3 + ["Góp ý Xã Nhỏ"]
    # The small unit (1 response < 2) is folded into "other units" in an anonymous survey.
    labels = [label for label, _n, _share in results["units"]]
    assert "Phường Lớn" in labels
    assert "Xã Nhỏ" not in labels
    by_unit = {label: n for label, n, _ in channel.by_unit}
    assert by_unit["Phường Lớn"] == 4


def test_retention_unlinks_accounts_and_account_deletion(owner):
    from accounts.services import account_anonymise, personal_data_export

    now = timezone.now()
    survey = make_survey(owner)
    citizen = CitizenProfileFactory(unit=owner).user
    services.survey_respond(survey=survey, user=citizen, answers=answers_for(survey, text="Tên tôi là …"),
                            consent=True)
    assert personal_data_export(user=citizen)["survey_responses"][0]["survey"] == survey.title
    assert services.survey_responses_unlink_expired(now=now) == 0  # still open
    account_anonymise(user=citizen, actor=citizen)
    response = SurveyResponse.objects.get(survey=survey)
    assert response.user_id is None
    assert not SurveyAnswer.objects.filter(response=response, text="Tên tôi là …").exists()
    other = CitizenProfileFactory(unit=owner).user
    services.survey_respond(survey=survey, user=other, answers=answers_for(survey), consent=True)
    survey.closes_at = now - dt.timedelta(days=181)
    survey.opens_at = now - dt.timedelta(days=200)
    survey.save()
    assert services.survey_responses_unlink_expired(now=now) == 1
    assert not SurveyResponse.objects.filter(user__isnull=False).exists()
    assert selectors.survey_results(survey=survey)["total"] == 2  # results unchanged


def test_structure_is_locked_once_answered(owner):
    survey = make_survey(owner, anonymous=True)
    question = survey.questions.get(position=1)
    services.survey_question_choices_set(question=question, texts=["Có", "", "Không"])
    assert list(question.choices.values_list("text", flat=True)) == ["Có", "Không"]
    services.survey_respond(survey=survey, user=CitizenProfileFactory(unit=owner).user, answers=answers_for(survey))
    with pytest.raises(errors.SurveyLocked):
        services.survey_question_choices_set(question=question, texts=["A", "B"])
