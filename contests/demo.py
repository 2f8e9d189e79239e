"""Demo data for contests: one published contest with a round open now → +30 days, 10 questions drawn from
two topics of the demo bank (the others stay free for practice), a 15-minute limit and the prediction question
on, so a visitor can take an exam to the end.

Idempotent: the contest is looked up by slug and its round by name; the round window is moved forward on
every run so the demo is always open. If the question bank's demo loader has not put at least ten approved
questions in the bank, a small built-in set of real legal questions is added (looked up by stem).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils import timezone

from accounts.models import Organisation
from contest_engine.demo import demo_loader
from contests.blueprints import draw_questions_available
from contests.models import Contest, ContestVisibility, Round
from questionbank.importers.base import ParsedOption
from questionbank.models import Question, QuestionStatus, Topic
from questionbank.services.questions import question_create

CONTEST_SLUG = "demo-tim-hieu-phap-luat"
ROUND_NAME = "Đợt thi thử"
JUSTICE_SLUG = "can-tho-so-tu-phap"
QUESTIONS_PER_ATTEMPT = 10

RULES = """<p>Cuộc thi thử để làm quen với hình thức thi trực tuyến.</p>
<ul>
<li>Mỗi lượt thi gồm 10 câu hỏi trắc nghiệm được chọn ngẫu nhiên (giao thông đường bộ; hôn nhân và gia đình)
và 01 câu hỏi dự đoán.</li>
<li>Thời gian làm bài: 15 phút; hết giờ, bài thi được tự động nộp.</li>
<li>Mỗi người được thi tối đa 3 lượt; lượt có kết quả cao nhất được tính.</li>
<li>Xếp hạng theo: điểm; dự đoán gần đúng nhất; thời gian làm bài ngắn nhất; thời điểm nộp bài sớm nhất.</li>
</ul>"""

# (stem, [(option, correct)], explanation, document, article, clause) — facts of published laws.
FALLBACK_QUESTIONS: list[tuple[str, list[tuple[str, bool]], str, str, str, str]] = [
    ("Hiến pháp hiện hành của nước Cộng hòa xã hội chủ nghĩa Việt Nam được Quốc hội thông qua năm nào?",
     [("1992", False), ("2001", False), ("2013", True), ("2015", False)],
     "Hiến pháp năm 2013 được Quốc hội khóa XIII thông qua ngày 28/11/2013.", "Hiến pháp 2013", "", ""),
    ("Theo Hiến pháp năm 2013, nhiệm kỳ của mỗi khóa Quốc hội là bao nhiêu năm?",
     [("4 năm", False), ("5 năm", True), ("6 năm", False), ("7 năm", False)],
     "Nhiệm kỳ của mỗi khóa Quốc hội là năm năm.", "Hiến pháp 2013", "71", "1"),
    ("Theo Hiến pháp năm 2013, cơ quan quyền lực nhà nước cao nhất của nước ta là cơ quan nào?",
     [("Chính phủ", False), ("Quốc hội", True), ("Tòa án nhân dân tối cao", False), ("Chủ tịch nước", False)],
     "Quốc hội là cơ quan đại biểu cao nhất của Nhân dân, cơ quan quyền lực nhà nước cao nhất.",
     "Hiến pháp 2013", "69", ""),
    ("Theo Bộ luật Dân sự năm 2015, người thành niên là người từ đủ bao nhiêu tuổi trở lên?",
     [("16 tuổi", False), ("17 tuổi", False), ("18 tuổi", True), ("21 tuổi", False)],
     "Người thành niên là người từ đủ mười tám tuổi trở lên.", "91/2015/QH13", "20", "1"),
    ("Theo Luật Hôn nhân và gia đình năm 2014, nam được kết hôn khi từ đủ bao nhiêu tuổi trở lên?",
     [("18 tuổi", False), ("19 tuổi", False), ("20 tuổi", True), ("21 tuổi", False)],
     "Nam từ đủ 20 tuổi trở lên, nữ từ đủ 18 tuổi trở lên.", "52/2014/QH13", "8", "1"),
    ("Theo Luật Hôn nhân và gia đình năm 2014, nữ được kết hôn khi từ đủ bao nhiêu tuổi trở lên?",
     [("16 tuổi", False), ("18 tuổi", True), ("19 tuổi", False), ("20 tuổi", False)],
     "Nam từ đủ 20 tuổi trở lên, nữ từ đủ 18 tuổi trở lên.", "52/2014/QH13", "8", "1"),
    ("Theo Bộ luật Lao động năm 2019, người lao động chưa thành niên là người lao động chưa đủ bao nhiêu tuổi?",
     [("15 tuổi", False), ("16 tuổi", False), ("18 tuổi", True), ("20 tuổi", False)],
     "Người lao động chưa thành niên là người lao động chưa đủ 18 tuổi.", "45/2019/QH14", "143", "1"),
    ("Theo Bộ luật Hình sự năm 2015, người từ đủ bao nhiêu tuổi trở lên phải chịu trách nhiệm hình sự về mọi "
     "tội phạm, trừ những tội phạm mà Bộ luật có quy định khác?",
     [("14 tuổi", False), ("16 tuổi", True), ("18 tuổi", False), ("20 tuổi", False)],
     "Người từ đủ 16 tuổi trở lên phải chịu trách nhiệm hình sự về mọi tội phạm, trừ những tội phạm mà Bộ "
     "luật này có quy định khác.", "100/2015/QH13", "12", "1"),
    ("Theo Luật Căn cước năm 2023, công dân Việt Nam từ đủ bao nhiêu tuổi trở lên phải thực hiện thủ tục "
     "cấp thẻ căn cước?",
     [("6 tuổi", False), ("14 tuổi", True), ("16 tuổi", False), ("18 tuổi", False)],
     "Công dân Việt Nam từ đủ 14 tuổi trở lên phải thực hiện thủ tục cấp thẻ căn cước.", "26/2023/QH15",
     "19", "1"),
    ("Theo Luật Cư trú năm 2020, nơi cư trú của công dân gồm những nơi nào?",
     [("Nơi thường trú và nơi tạm trú", True), ("Chỉ nơi thường trú", False),
      ("Nơi làm việc và nơi học tập", False), ("Nơi đăng ký khai sinh", False)],
     "Nơi cư trú của công dân bao gồm nơi thường trú, nơi tạm trú.", "68/2020/QH14", "11", "1"),
    ("Luật Bảo vệ dữ liệu cá nhân (Luật số 91/2025/QH15) có hiệu lực thi hành từ ngày nào?",
     [("01/7/2025", False), ("01/01/2026", True), ("01/7/2026", False), ("01/01/2027", False)],
     "Luật Bảo vệ dữ liệu cá nhân có hiệu lực thi hành từ ngày 01 tháng 01 năm 2026.", "91/2025/QH15", "", ""),
    ("Từ ngày 01/7/2025, chính quyền địa phương ở nước ta được tổ chức thành mấy cấp?",
     [("Hai cấp: cấp tỉnh và cấp xã", True), ("Ba cấp: tỉnh, huyện, xã", False),
      ("Bốn cấp: trung ương, tỉnh, huyện, xã", False), ("Một cấp", False)],
     "Chính quyền địa phương được tổ chức ở hai cấp: cấp tỉnh và cấp xã (không còn cấp huyện).",
     "Luật Tổ chức chính quyền địa phương 2025", "", ""),
]


def _ensure_questions(organisation: Any, stdout: Any) -> int:
    draw = {"topic_id": None, "difficulty": None, "count": QUESTIONS_PER_ATTEMPT, "points": None}
    available = draw_questions_available(organisation=organisation, draw=draw).count()
    if available >= QUESTIONS_PER_ATTEMPT:
        return available
    created = 0
    for stem, options, explanation, document, article, clause in FALLBACK_QUESTIONS:
        if Question.objects.filter(organisation=organisation, stem__contains=stem[:60]).exists():
            continue
        question_create(
            organisation=organisation, author=None, type="single", stem=stem,
            options=[ParsedOption(text=text, fraction=Decimal("1") if ok else Decimal("0")) for text, ok in options],
            explanation=explanation, citation_document=document, citation_article=article,
            citation_clause=clause, status=QuestionStatus.APPROVED)
        created += 1
    stdout.write(f"  contests: added {created} built-in demo questions to the bank")
    return draw_questions_available(organisation=organisation, draw=draw).count()


# The demo round draws from two topics of the demo bank, so the other topics stay open for practice (an open
# round reserves every question its blueprint could draw: practice.selectors). Without the bank's topics (the
# question bank loader did not run), it draws from everything.
DRAW_TOPICS = (("Luật Trật tự, an toàn giao thông đường bộ", 6), ("Hôn nhân và gia đình", 4))


def _blueprint() -> list[dict]:
    topics = {t.name: t.pk for t in Topic.objects.filter(parent__isnull=True, name__in=[n for n, _ in DRAW_TOPICS])}
    if len(topics) == len(DRAW_TOPICS):
        return [{"topic_id": topics[name], "difficulty": None, "count": count, "points": None}
                for name, count in DRAW_TOPICS]
    return [{"topic_id": None, "difficulty": None, "count": QUESTIONS_PER_ATTEMPT, "points": None}]


@demo_loader(order=40, name="contests")
def load(stdout: Any) -> None:
    organisation = Organisation.objects.filter(slug=JUSTICE_SLUG).first() or Organisation.objects.order_by(
        "pk").first()
    if organisation is None:
        stdout.write("  contests: no organisation yet — skipped (the accounts demo loader runs first)")
        return
    available = _ensure_questions(organisation, stdout)
    contest, _ = Contest.objects.update_or_create(slug=CONTEST_SLUG, defaults={
        "organisation": organisation,
        "title": "Cuộc thi thử: Tìm hiểu pháp luật dành cho mọi người",
        "summary": "Cuộc thi mẫu để bạn làm thử một bài thi trực tuyến từ đầu đến cuối.",
        "rules_text": RULES,
        "visibility": ContestVisibility.PUBLISHED,
        "minimum_age": None,
        "time_limit_seconds": 15 * 60,
        "blueprint": _blueprint(),
        "max_attempts": 3,
        "counted_attempt": "best",
        "prediction_enabled": True,
        "prediction_target_kind": "perfect_attempts",
        "scoring_rule": "weighted",
        "presentation": "all_on_one_page",
        "allow_answer_change": True,
        "reveal_answers_after_attempt": False,
    })
    now = timezone.now().replace(microsecond=0)
    round_, created = Round.objects.get_or_create(contest=contest, name=ROUND_NAME, defaults={
        "position": 1, "opens_at": now - dt.timedelta(minutes=5), "closes_at": now + dt.timedelta(days=30)})
    if not created and (round_.opens_at > now or round_.effective_closes_at < now + dt.timedelta(days=7)):
        round_.opens_at = min(round_.opens_at, now - dt.timedelta(minutes=5))
        round_.closes_at = now + dt.timedelta(days=30)
        round_.extended_until = None
        round_.closed_at = None
        round_.prediction_target_value = None
        round_.save()
    stdout.write(f"  contests: “{contest.title}” open until {round_.effective_closes_at:%Y-%m-%d} "
                 f"({available} questions available) — /contests/{contest.slug}/")
