"""A survey with one question of each kind."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from surveys.models import Survey, SurveyChoice, SurveyQuestion


def make_survey(organisation, *, anonymous: bool = False, **kwargs) -> Survey:
    now = timezone.now()
    defaults = {"title": "Nhu cầu tìm hiểu pháp luật", "status": "published",
                "opens_at": now - dt.timedelta(days=1), "closes_at": now + dt.timedelta(days=7)}
    survey = Survey.objects.create(organisation=organisation, anonymous=anonymous, **{**defaults, **kwargs})
    channel = SurveyQuestion.objects.create(survey=survey, position=1, kind="single", allow_other=True,
                                            text="Bạn tìm hiểu pháp luật qua kênh nào?")
    for i, text in enumerate(["Mạng xã hội", "Truyền hình", "Loa phường"], start=1):
        SurveyChoice.objects.create(question=channel, position=i, text=text)
    topics = SurveyQuestion.objects.create(survey=survey, position=2, kind="multiple", required=False,
                                           text="Lĩnh vực bạn muốn tìm hiểu thêm?")
    for i, text in enumerate(["Đất đai", "Giao thông", "Hôn nhân"], start=1):
        SurveyChoice.objects.create(question=topics, position=i, text=text)
    SurveyQuestion.objects.create(survey=survey, position=3, kind="scale", text="Bạn hài lòng đến mức nào?")
    SurveyQuestion.objects.create(survey=survey, position=4, kind="text", required=False, text="Góp ý")
    return survey


def answers_for(survey: Survey, *, channel: int = 0, topics=(0,), scale: int = 4, text: str = "",
                other: str = "") -> dict:
    from surveys.services import RawAnswer

    q = {question.position: question for question in survey.questions.prefetch_related("choices")}
    c1, c2 = list(q[1].choices.all()), list(q[2].choices.all())
    return {
        q[1].pk: RawAnswer(choices=["other"] if other else [str(c1[channel].pk)], other=other),
        q[2].pk: RawAnswer(choices=[str(c2[i].pk) for i in topics]),
        q[3].pk: RawAnswer(number=str(scale)),
        q[4].pk: RawAnswer(text=text),
    }
