"""Essays enter the queue on submit; grading pages judges can use; blind grading holds everywhere until grading
ends; a judge corrects a slip before the proposal; a complaint re-grades after publication; organisers create
judges' accounts."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent, Membership, Role
from contests.models import Attempt
from judging import errors
from judging.models import Complaint, ComplaintStatus, EssayAssignment, EssayGradeCorrection, EssayStatus
from judging.services.complaints import complaint_decide, complaint_record, complaint_regrade
from judging.services.essays import essay_grade_correct, essay_grade_submit
from leaderboards.services.ranking import ranking_compute
from tests.factories import make_staff
from tests.judging.conftest import grade_all, take_to_published

pytestmark = pytest.mark.django_db


# --- 3. essays enter the queue whenever they are submitted --------------------------------------------------------


def test_an_essay_submitted_any_time_enters_the_queue(org_a, citizen, django_capture_on_commit_callbacks):
    """Through the real submit path (while the round is open, after other essays were graded)."""
    from contests.services.attempts.answers import attempt_answer
    from contests.services.attempts.finish import attempt_submit
    from contests.services.attempts.start import attempt_start
    from tests.contests.factories import ContestFactory, QuestionFactory, RoundFactory, register

    essay = QuestionFactory(organisation=org_a, type="essay")
    contest = ContestFactory(organisation=org_a, blueprint=[{"question_ids": [essay.pk], "points": 5}])
    now = timezone.now().replace(microsecond=0)
    round_ = RoundFactory(contest=contest, opens_at=now - dt.timedelta(hours=1), closes_at=now + dt.timedelta(days=1))
    register(citizen, contest)
    attempt = attempt_start(user=citizen, round=round_, now=now)
    attempt_answer(attempt_id=attempt.pk, user_id=citizen.pk, position=1, response={"text": "Bài làm của tôi"},
                   client_seq=1, now=now)
    assert not EssayAssignment.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        attempt_submit(attempt=attempt, now=now + dt.timedelta(minutes=3))
    assignment = EssayAssignment.objects.get()
    assert assignment.attempt_id == attempt.pk
    assert assignment.code.startswith("TL-")


# --- 9. the grading pages -----------------------------------------------------------------------------------------


def test_the_grading_page_keeps_the_typed_mark_and_says_the_real_reason(client, results, graded_round, judge_a):
    client.force_login(judge_a)
    # Essays are ordered by their random blind code: start from the first, so that the next one exists after
    # it and the one just graded is its previous.
    first = min(graded_round, key=lambda assignment: assignment.code)
    url = reverse("judging:essay", kwargs={"assignment_id": first.pk})
    page = client.get(url).content.decode()
    assert 'name="mark" inputmode="decimal" required autofocus' in page
    assert "Đã chấm 0 / 4 bài" in page
    assert "Đáp án gợi ý" in page
    assert "Giải thích theo luật." in page  # the model answer beside the essay
    assert "Thang điểm / hướng dẫn chấm" in page
    for typed, reason in (("2.555", "tối đa 2 chữ số thập phân"), ("7", "từ 0 đến 5"), ("bốn", "phải là một số")):
        response = client.post(url, {"mark": typed, "comment": "Thiếu ý thứ hai"})
        assert response.status_code == 400
        body = response.content.decode()
        assert reason in body, (typed, reason)
        assert f'value="{typed}"' in body
        assert "Thiếu ý thứ hai</textarea>" in body
    response = client.post(url, {"mark": "4,5", "comment": ""})
    assert response.status_code == 302  # saved: straight to the next essay
    assert response["Location"] != url
    page = client.get(response["Location"]).content.decode()
    assert "Đã chấm 1 / 4 bài" in page
    assert 'rel="prev"' in page
    assert 'id="skip"' in page


def test_the_queue_counts_are_true_and_pagination_is_stated(client, results, graded_round, judge_a, judge_a2,
                                                            monkeypatch):
    monkeypatch.setattr("judging.views.QUEUE_PAGE", 3)
    essay_grade_submit(assignment=graded_round[0], grader=judge_a2, mark="2")
    client.force_login(judge_a)
    html = client.get(reverse("judging:essays", kwargs={"round_id": results.round.pk})).content.decode()
    assert "Chờ chấm: <strong>4</strong>" in html  # one grade of two is still waiting
    assert "Bài 1–3 trong 4 bài (trang 1/2)." in html
    assert "Trang sau" in html


def test_judges_have_a_home_page(client, results, graded_round, judge_a):
    ranking_compute(round=results.round)
    client.force_login(judge_a)
    assert 'href="/judging/"' in client.get("/").content.decode()
    html = client.get(reverse("judging:home")).content.decode()
    assert results.round.name in html
    assert "4 bài chờ bạn chấm" in html


# --- 6. blind grading ---------------------------------------------------------------------------------------------


def test_blind_grading_holds_until_grading_ends(client, results, graded_round, judge_a, judge_a2, organiser_a):
    from exports import errors as export_errors
    from exports.services import export_job_request

    ranking_compute(round=results.round)
    contest = results.round.contest
    name = results.registrations[0].full_name
    with pytest.raises(export_errors.ExportBlindGrading):
        export_job_request(actor=judge_a, contest=contest, round=results.round)
    with pytest.raises(export_errors.ExportBlindGrading):
        export_job_request(actor=judge_a, contest=contest)
    export_job_request(actor=organiser_a, contest=contest, round=results.round)  # organisers are not grading
    client.force_login(judge_a)
    pages = [reverse("judging:round", kwargs={"round_id": results.round.pk}),
             reverse("leaderboards:official", kwargs={"round_id": results.round.pk}),
             reverse("admin:contests_attempt_changelist")]
    for url in pages:
        response = client.get(url)
        assert name not in response.content.decode(), url
    grade_all(graded_round, [judge_a, judge_a2], ["1", "2", "3", "4"])
    html = client.get(pages[0]).content.decode()
    assert name in html  # grading has ended
    assert name in client.get(pages[2]).content.decode()
    export_job_request(actor=judge_a, contest=contest, round=results.round)


# --- 7. corrections and complaints --------------------------------------------------------------------------------


def test_a_judge_corrects_a_slip_before_the_proposal(results, graded_round, judge_a, judge_a2, judge_a3):
    assignment = graded_round[0]
    mine = essay_grade_submit(assignment=assignment, grader=judge_a, mark="4")  # meant 0,4
    essay_grade_submit(assignment=assignment, grader=judge_a2, mark="0.5")
    assignment.refresh_from_db()
    assert assignment.status == EssayStatus.NEEDS_THIRD
    with pytest.raises(errors.ReasonRequired):
        essay_grade_correct(grade=mine, grader=judge_a, mark="0,4", reason="")
    with pytest.raises(errors.NotAllowed):
        essay_grade_correct(grade=mine, grader=judge_a2, mark="0,4", reason="Gõ nhầm")
    essay_grade_correct(grade=mine, grader=judge_a, mark="0,4", reason="Gõ nhầm 4 thay vì 0,4")
    assignment.refresh_from_db()
    assert (assignment.status, assignment.final_mark) == (EssayStatus.FINAL, Decimal("0.45"))
    attempt = Attempt.objects.get(pk=assignment.attempt_id)
    assert attempt.score == Decimal("3.450")
    correction = EssayGradeCorrection.objects.get()
    assert (correction.old_mark, correction.new_mark) == (Decimal("4"), Decimal("0.4"))
    event = AuditEvent.objects.get(action="judging.essay_grade_corrected")
    assert event.reason == "Gõ nhầm 4 thay vì 0,4"
    assert event.data["old_mark"] == "4.00"
    grade_all(graded_round[1:], [judge_a, judge_a2], ["1", "1", "1"])
    from judging.services.approval import ranking_propose, ranking_recompute

    ranking_propose(actor=judge_a, ranking=ranking_recompute(actor=judge_a, round=results.round))
    with pytest.raises(errors.CorrectionClosed):
        essay_grade_correct(grade=mine, grader=judge_a, mark="1", reason="Sau đề xuất")


def test_a_complaint_after_publication_regrades_and_leads_to_a_new_version(
        client, results, graded_round, judge_a, judge_a2, judge_a3, organiser_a, org_a):
    from judging.services.approval import ranking_recompute, ranking_revise

    registration = results.registrations[3]
    with pytest.raises(errors.ComplaintNotAllowed):
        complaint_record(actor=organiser_a, round=results.round, registration=registration, content="Xin phúc khảo")
    grade_all(graded_round, [judge_a, judge_a2], ["1", "1", "1", "1"])
    published = take_to_published(ranking_recompute(actor=judge_a, round=results.round), judge_a,
                                  make_staff(org_a, "organiser"))
    with pytest.raises(errors.NotAllowed):
        complaint_record(actor=judge_a, round=results.round, registration=registration, content="x")
    complaint = complaint_record(actor=organiser_a, round=results.round, registration=registration,
                                 content="Đề nghị phúc khảo bài tự luận", channel="Đơn giấy")
    mine = next(a for a in graded_round if a.attempt.registration_id == registration.pk)
    other = next(a for a in graded_round if a.attempt.registration_id != registration.pk)
    with pytest.raises(errors.NotAllowed):  # only the complaining contestant's essays
        complaint_regrade(actor=organiser_a, complaint=complaint, assignment=other, reason="x")
    complaint_regrade(actor=organiser_a, complaint=complaint, assignment=mine, reason="Chấm lại theo đơn")
    mine.refresh_from_db()
    assert (mine.cycle, mine.status, mine.final_mark) == (2, EssayStatus.AWAITING, Decimal("1.00"))
    assert Attempt.objects.get(pk=mine.attempt_id).score == Decimal("2.000")  # the old mark stands meanwhile
    with pytest.raises(errors.RegradePending):
        complaint_decide(actor=organiser_a, complaint=complaint, outcome="upheld", decision="Tăng điểm")
    # The re-grade is blind: a judge who graded it before gets it again, without the earlier marks.
    client.force_login(judge_a)
    page = client.get(reverse("judging:essay", kwargs={"assignment_id": mine.pk})).content.decode()
    assert "Bạn đã chấm" not in page
    assert "1,00" not in page
    assert "chấm lại" in page
    essay_grade_submit(assignment=mine, grader=judge_a, mark="3")
    essay_grade_submit(assignment=mine, grader=judge_a3, mark="3.5")
    mine.refresh_from_db()
    assert (mine.status, mine.final_mark) == (EssayStatus.FINAL, Decimal("3.25"))
    assert Attempt.objects.get(pk=mine.attempt_id).score == Decimal("4.250")
    new = ranking_revise(actor=organiser_a, ranking=published, reason=f"Phúc khảo: khiếu nại số {complaint.pk}")
    take_to_published(new, judge_a2, make_staff(org_a, "organiser"))
    decided = complaint_decide(actor=organiser_a, complaint=complaint, outcome="upheld",
                               decision="Chấp nhận, điểm tự luận 3,25")
    assert decided.status == ComplaintStatus.DECIDED
    assert decided.ranking_id == new.pk
    actions = list(AuditEvent.objects.filter(target_type="judging.complaint").order_by("at", "id")
                   .values_list("action", flat=True))
    assert actions == ["judging.complaint_recorded", "judging.complaint_regrade_ordered", "judging.complaint_decided"]
    client.force_login(organiser_a)
    html = client.get(reverse("judging:complaint", kwargs={"complaint_id": complaint.pk})).content.decode()
    assert "Đơn giấy" in html
    assert "Chấp nhận, điểm tự luận 3,25" in html
    assert "Phiên bản 2" in html
    assert Complaint.objects.count() == 1


# --- 10. organisers create judges' accounts -----------------------------------------------------------------------


def test_organisers_create_judges_accounts_in_their_organisation(client, organiser_a, org_a, org_b, judge_a):
    url = reverse("accounts:staff")
    client.force_login(judge_a)
    assert client.get(url).status_code == 403
    client.force_login(organiser_a)
    page = client.get(url).content.decode()
    assert org_b.name not in page
    response = client.post(url, {"do": "create", "new-organisation": org_b.pk, "new-role": "judge",
                                 "new-full_name": "Giám Khảo Lạ", "new-phone": "0987654321"})
    assert response.status_code == 400  # another organisation is not a choice
    response = client.post(url, {"do": "create", "new-organisation": org_a.pk, "new-role": "judge",
                                 "new-full_name": "Hồ Thị Giám Khảo", "new-phone": "0987 654 321",
                                 "new-email": "gk@example.vn"})
    assert response.status_code == 200
    password = re.search(r'id="temporary-password">([^<]+)<', response.content.decode()).group(1)
    membership = Membership.objects.get(user__phone="0987654321")
    assert (membership.organisation_id, membership.role) == (org_a.pk, Role.JUDGE)
    assert membership.user.is_staff
    assert membership.user.check_password(password)
    assert AuditEvent.objects.filter(action="accounts.staff_account_created", actor=organiser_a).count() == 1
    again = client.post(url, {"do": "create", "new-organisation": org_a.pk, "new-role": "judge",
                              "new-full_name": "Trùng", "new-phone": "0987654321"})
    assert again.status_code == 400
    assert "đã có tài khoản" in again.content.decode()
    client.logout()
    assert client.login(username="0987654321", password=password)
