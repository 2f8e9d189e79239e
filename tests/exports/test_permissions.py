"""Only organisers and judges of the owning organisation export: other organisations' staff get 404,
citizens 403, anonymous visitors the login page; writers/reviewers of the same organisation 404."""

from __future__ import annotations

import pytest
from django.urls import reverse

from exports import errors
from exports.masking import mask_digits, sees_full_personal_data
from exports.models import ExportJob
from exports.services import export_job_request, export_job_run
from tests.factories import make_staff

pytestmark = pytest.mark.django_db


def urls_for(results, job):
    round_id, contest_id = results.round.pk, results.round.contest.pk
    return [
        ("get", reverse("exports:round", kwargs={"pk": round_id})),
        ("get", reverse("exports:round_statistics", kwargs={"pk": round_id})),
        ("post", reverse("exports:round_request", kwargs={"pk": round_id})),
        ("get", reverse("exports:contest", kwargs={"pk": contest_id})),
        ("post", reverse("exports:contest_request", kwargs={"pk": contest_id})),
        ("get", reverse("exports:job", kwargs={"job_id": job.pk})),
        ("get", reverse("exports:status", kwargs={"job_id": job.pk})),
        ("get", reverse("exports:download", kwargs={"job_id": job.pk})),
    ]


@pytest.fixture
def done_job(organiser_a, results, export_media):
    job = export_job_request(actor=organiser_a, contest=results.round.contest, round=results.round)
    return export_job_run(job_id=job.pk)


def test_other_organisations_staff_get_404(client, org_b, results, done_job):
    for role in ("organiser", "judge"):
        client.force_login(make_staff(org_b, role))
        for method, url in urls_for(results, done_job):
            assert getattr(client, method)(url).status_code == 404, (role, url)
    assert ExportJob.objects.count() == 1


def test_writers_of_the_same_organisation_get_404(client, writer_a, results, done_job):
    client.force_login(writer_a)
    for method, url in urls_for(results, done_job):
        assert getattr(client, method)(url).status_code == 404, url


def test_citizens_get_403(client, citizen, results, done_job):
    client.force_login(citizen)
    for method, url in urls_for(results, done_job):
        assert getattr(client, method)(url).status_code == 403, url


def test_anonymous_visitors_are_sent_to_login(client, results, done_job):
    for method, url in urls_for(results, done_job):
        response = getattr(client, method)(url)
        assert response.status_code == 302, url
        assert reverse("accounts:login") in response["Location"]


def test_organisers_and_judges_of_the_owner_may_export(client, organiser_a, judge_a, results, done_job):
    for user in (organiser_a, judge_a):
        client.force_login(user)
        for method, url in urls_for(results, done_job):
            assert getattr(client, method)(url).status_code in (200, 302), url


def test_the_service_refuses_too(writer_a, organiser_b, results):
    for user in (writer_a, organiser_b):
        with pytest.raises(errors.ExportNotAllowed):
            export_job_request(actor=user, contest=results.round.contest, round=results.round)


def test_who_sees_personal_data_whole(organiser_a, judge_a, writer_a, organiser_b, citizen, results):
    org = results.round.contest.organisation_id
    assert sees_full_personal_data(user=organiser_a, organisation_id=org)
    assert sees_full_personal_data(user=judge_a, organisation_id=org)
    assert sees_full_personal_data(user=None, organisation_id=org)  # command line
    for user in (writer_a, organiser_b, citizen):
        assert not sees_full_personal_data(user=user, organisation_id=org)
    assert not sees_full_personal_data(user=organiser_a, organisation_id=org, published=True)


def test_mask_digits():
    assert mask_digits("0912345678") == "*******678"
    assert mask_digits("092090000123") == "*********123"
    assert mask_digits("12") == "**"
    assert mask_digits("") == ""
    assert mask_digits(None) == ""
