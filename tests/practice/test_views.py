"""Practice pages through the test client: start, answer (HTML feedback and JSON), someone else's session,
the organisers' insights page."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from practice.models import PracticeItem, PracticeSession
from questionbank.models import Topic
from tests.contests.factories import QuestionFactory
from tests.factories import CitizenProfileFactory, OrganisationFactory, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def topic():
    topic = Topic.objects.create(name="Đất đai")
    owner = OrganisationFactory(name="Sở Tư pháp (thử)")
    for _ in range(6):
        QuestionFactory(organisation=owner, topic=topic, explanation="<p>GIAI-THICH</p>", citation_article="12")
    return topic


def test_a_session_through_the_pages(client, topic):
    citizen = CitizenProfileFactory().user
    client.force_login(citizen)
    home = client.get(reverse("practice:home"))
    assert "Đất đai (6 câu)" in home.content.decode()
    response = client.post(reverse("practice:start"), {"mode": "topic", "topic": topic.pk, "count": "5"})
    session = PracticeSession.objects.get(user=citizen)
    assert response["Location"] == reverse("practice:session", args=[session.pk])
    page = client.get(response["Location"]).content.decode()
    assert "GIAI-THICH" not in page  # the key only after answering
    item = PracticeItem.objects.get(session=session, position=1)
    feedback = client.post(reverse("practice:answer", args=[session.pk]),
                           {"position": "1", "option": str(item.option_order[0])}).content.decode()
    assert "GIAI-THICH" in feedback
    assert "Điều 12" in feedback
    item2 = PracticeItem.objects.get(session=session, position=2)
    json_feedback = client.post(reverse("practice:answer", args=[session.pk]),
                                {"position": "2", "option": str(item2.option_order[0])},
                                HTTP_ACCEPT="application/json").json()
    assert json_feedback["explanation"] == "<p>GIAI-THICH</p>"
    assert json_feedback["saved"] is True
    bad = client.post(reverse("practice:answer", args=[session.pk]), {"position": "3", "option": "abc"},
                      HTTP_ACCEPT="application/json")
    assert bad.status_code == 400
    assert bad.json()["code"] == "invalid_response"


def test_someone_elses_session_is_a_404(client, topic):
    owner = CitizenProfileFactory().user
    client.force_login(owner)
    client.post(reverse("practice:start"), {"mode": "mixed", "count": "5"})
    session = PracticeSession.objects.get(user=owner)
    client.force_login(CitizenProfileFactory().user)
    assert client.get(reverse("practice:session", args=[session.pk])).status_code == 404
    answer = client.post(reverse("practice:answer", args=[session.pk]), {"position": "1", "option": "1"})
    assert answer.status_code == 404
    assert client.post(reverse("practice:finish", args=[session.pk])).status_code == 404
    assert not PracticeItem.objects.filter(session=session, answered_at__isnull=False).exists()


def test_insights_page_is_for_organisers(client, topic):
    client.force_login(CitizenProfileFactory().user)
    assert client.get(reverse("practice:insights")).status_code == 403
    organiser = make_staff(OrganisationFactory(), "organiser")
    client.force_login(organiser)
    assert client.get(reverse("practice:insights")).status_code == 200


def test_anonymous_visitors_are_sent_to_log_in(client, topic):
    for name, kwargs in (("practice:home", {}), ("practice:session", {"session_id": 1}),
                         ("surveys:list", {}), ("surveys:detail", {"survey_id": 1})):
        response = client.get(reverse(name, kwargs=kwargs))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))
    response = client.post(reverse("practice:start"), {"mode": "mixed", "count": "5"})
    assert response.status_code == 302
    assert not PracticeSession.objects.exists()


def test_a_question_page_does_not_depend_on_its_key(client, topic):
    """By difference, as tests/security/test_answer_keys.py does for exams: before the answer, nothing on the
    page changes when the key, the explanation, the citation and the option feedback change; in a mock exam the
    page after an answer does not either (feedback is deferred to the summary)."""
    from questionbank.models import Question, QuestionOption

    citizen = CitizenProfileFactory().user
    client.force_login(citizen)
    client.post(reverse("practice:start"), {"mode": "topic", "topic": topic.pk, "count": "5"})
    session = PracticeSession.objects.get(user=citizen)
    url = reverse("practice:session", args=[session.pk])
    item = PracticeItem.objects.get(session=session, position=1)

    def flip() -> None:
        options = list(QuestionOption.objects.filter(question_id=item.question_id).order_by("position"))
        fractions = [o.fraction for o in options]
        for option, fraction in zip(options, fractions[1:] + fractions[:1], strict=True):
            QuestionOption.objects.filter(pk=option.pk).update(fraction=fraction, feedback="PHAN-HOI-KHAC")
        Question.objects.filter(pk=item.question_id).update(explanation="KHAC", citation_article="999")

    def without_token(html: str) -> str:
        return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)

    before = without_token(client.get(url).content.decode())
    flip()
    assert without_token(client.get(url).content.decode()) == before


def test_a_mock_exam_answer_says_saved_and_nothing_of_the_key(client, topic):
    import datetime as dt

    from django.utils import timezone

    from tests.contests.factories import ContestFactory, RoundFactory

    now = timezone.now()
    contest = ContestFactory(blueprint=[{"topic_id": topic.pk, "difficulty": None, "count": 3, "points": None}])
    past = RoundFactory(contest=contest, opens_at=now - dt.timedelta(days=5), closes_at=now - dt.timedelta(days=1))
    citizen = CitizenProfileFactory().user
    client.force_login(citizen)
    client.post(reverse("practice:mock_start", args=[past.pk]))
    session = PracticeSession.objects.get(user=citizen, mode="mock")
    answer_url = reverse("practice:answer", args=[session.pk])

    def answer_page(position: int) -> str:
        item = PracticeItem.objects.get(session=session, position=position)
        html = client.post(answer_url, {"position": str(position), "option": str(item.option_order[0])}).content
        return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html.decode())

    for position in (1, 2):
        page = answer_page(position)
        assert f"Đã lưu câu trả lời câu {position}." in page
        for word in ("GIAI-THICH", "Chính xác", "Chưa đúng", "đáp án đúng", "Điều 12", "review-options"):
            assert word not in page, word
    # The summary shows the key once the exam is over.
    item3 = PracticeItem.objects.get(session=session, position=3)
    client.post(answer_url, {"position": "3", "option": str(item3.option_order[0])})
    assert "GIAI-THICH" in client.get(reverse("practice:session", args=[session.pk])).content.decode()


def test_insights_page_of_another_organisation_shows_nothing_of_ours(client, topic):
    from practice import services

    ours = OrganisationFactory(name="Xã Của Chúng Tôi")
    secret = QuestionFactory(organisation=ours, topic=topic, stem="<p>CAU-HOI-CUA-XA-B</p>")
    citizen = CitizenProfileFactory(unit=ours).user
    session = services.practice_session_start(user=citizen, mode="topic", topic_id=topic.pk, count=10)
    for item in PracticeItem.objects.filter(session=session).select_related("question"):
        # A wrong option each time: the insights list the questions people miss (the order is shuffled).
        wrong = item.question.options.filter(fraction__lte=0).values_list("pk", flat=True).first()
        services.practice_answer(user=citizen, session_id=session.pk, position=item.position,
                                 response={"options": [wrong]})
    assert PracticeItem.objects.filter(question=secret, answered_at__isnull=False, is_correct=False).exists()
    client.force_login(make_staff(ours, "organiser"))
    assert "CAU-HOI-CUA-XA-B" in client.get(reverse("practice:insights")).content.decode()
    client.force_login(make_staff(OrganisationFactory(name="Phường Khác"), "organiser", "judge", "writer"))
    page = client.get(reverse("practice:insights")).content.decode()
    assert "CAU-HOI-CUA-XA-B" not in page
    assert "Xã Của Chúng Tôi" not in page
