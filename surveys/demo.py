"""Demo data for surveys: one anonymous survey of the Department of Justice, open for 60 days, with a few
synthetic responses from several wards so its results page has charts. Idempotent: looked up by title; the
responses are added only when it has none."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from django.utils import timezone

from accounts.models import Organisation
from contest_engine.demo import demo_loader
from surveys.models import Survey, SurveyAnswer, SurveyChoice, SurveyQuestion, SurveyResponse

JUSTICE_SLUG = "can-tho-so-tu-phap"
TITLE = "Khảo sát nhu cầu tìm hiểu pháp luật năm 2026"
QUESTIONS = [
    ("single", "Bạn thường tìm hiểu pháp luật qua kênh nào nhất?", True,
     ["Mạng xã hội (Facebook, Zalo…)", "Truyền hình, báo chí", "Loa truyền thanh của phường, xã",
      "Cán bộ tư pháp, tổ hoà giải"]),
    ("multiple", "Bạn muốn được phổ biến thêm những lĩnh vực pháp luật nào?", True,
     ["Đất đai, nhà ở", "Giao thông đường bộ", "Hôn nhân và gia đình", "Lao động, bảo hiểm xã hội",
      "Bảo vệ dữ liệu cá nhân"]),
    ("scale", "Bạn đánh giá thế nào về các cuộc thi tìm hiểu pháp luật trực tuyến?", False, []),
    ("text", "Bạn có góp ý gì để công tác phổ biến pháp luật hiệu quả hơn?", False, []),
]
SAMPLE_TEXTS = ["Nên có thêm video ngắn dễ hiểu.", "Tổ chức thi vào buổi tối để người đi làm tham gia.",
                "Cần hướng dẫn thủ tục đất đai cụ thể hơn.", "Gửi tin nhắn nhắc lịch thi."]


@demo_loader(order=70, name="surveys")
def load(stdout: Any) -> None:
    organisation = Organisation.objects.filter(slug=JUSTICE_SLUG).first()
    if organisation is None:
        stdout.write("  surveys: organisation missing — skipped")
        return
    now = timezone.now().replace(microsecond=0)
    survey, created = Survey.objects.get_or_create(organisation=organisation, title=TITLE, defaults={
        "description": "<p>Ý kiến của bạn giúp Sở Tư pháp chọn nội dung và hình thức phổ biến pháp luật phù hợp.</p>",
        "status": "published", "anonymous": True, "opens_at": now - dt.timedelta(days=1),
        "closes_at": now + dt.timedelta(days=60)})
    if survey.closes_at < now + dt.timedelta(days=7):
        Survey.objects.filter(pk=survey.pk).update(closes_at=now + dt.timedelta(days=60))
    if created:
        for position, (kind, text, other, choices) in enumerate(QUESTIONS, start=1):
            question = SurveyQuestion.objects.create(
                survey=survey, position=position, kind=kind, text=text, allow_other=other, required=kind != "text",
                scale_low_label="Rất chưa hài lòng" if kind == "scale" else "",
                scale_high_label="Rất hài lòng" if kind == "scale" else "")
            SurveyChoice.objects.bulk_create([SurveyChoice(question=question, position=i, text=c)
                                              for i, c in enumerate(choices, start=1)])
    made = 0
    if not SurveyResponse.objects.filter(survey=survey).exists():
        rng = random.Random(2026)
        wards = list(Organisation.objects.filter(kind="ward").order_by("name")[:4])
        questions = list(survey.questions.prefetch_related("choices").order_by("position"))
        for n in range(24):
            response = SurveyResponse.objects.create(
                survey=survey, is_anonymous=True, unit=wards[n % len(wards)] if wards else None,
                submitted_on=(now - dt.timedelta(hours=n)).date())
            rows = []
            for question in questions:
                choices = list(question.choices.all())
                if question.kind == "single":
                    rows.append(SurveyAnswer(response=response, question=question,
                                             choice=choices[min(int(rng.expovariate(0.9)), len(choices) - 1)]))
                elif question.kind == "multiple":
                    rows += [SurveyAnswer(response=response, question=question, choice=c)
                             for c in rng.sample(choices, rng.randint(1, 3))]
                elif question.kind == "scale":
                    rows.append(SurveyAnswer(response=response, question=question, number=rng.choice([3, 4, 4, 5, 5])))
                elif n % 6 == 0:
                    rows.append(SurveyAnswer(response=response, question=question, text=SAMPLE_TEXTS[n // 6 % 4]))
            SurveyAnswer.objects.bulk_create(rows)
            made += 1
    stdout.write(f"  surveys: “{survey.title}” (anonymous, {made} demo responses added) — /surveys/{survey.pk}/ ; "
                 f"results for the organiser at /surveys/{survey.pk}/results/")
