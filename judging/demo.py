"""Demo data for judging: the end of a round with essays, ready to be graded, proposed, approved and published.

A published contest "Hội thi tìm hiểu pháp luật (thử) — chung kết" of the Department of Justice with one closed
round: five multiple-choice questions and one essay (5 points), eight demo contestants who took it (through
the real services, at times in the past), the essays in the grading queue, the marking scheme written, and
version 1 of the official ranking stored at close (the essays still count 0: it must be recomputed once they
are graded). Two more judges join the demo judge so that every essay can get its two grades (and a third).

The essay question is retired from the bank once the round's attempts have drawn it, so that the random draws
of the other demo contest never pick an essay. Idempotent: the contest is looked up by slug and the round by
name; an existing round is left as it is (grading done in the demo is kept).
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils import timezone

from accounts.models import CitizenProfile, Organisation, Role, User
from accounts.organisations import membership_grant
from contest_engine.demo import demo_loader
from contests.models import AttemptQuestion, Contest, ContestVisibility, Round
from contests.services.attempts.answers import attempt_answer
from contests.services.attempts.finish import attempt_submit
from contests.services.attempts.start import attempt_start
from contests.services.registrations import registration_create
from judging.models import EssayGradingSettings
from judging.services.essays import essay_assignments_create, essay_guide_save
from leaderboards.services.ranking import round_close
from questionbank.models import Question, QuestionStatus, Visibility
from questionbank.services.questions import question_create
from questionbank.services.review import question_retire

CONTEST_SLUG = "demo-chung-ket-tu-luan"
ROUND_NAME = "Chung kết (có câu tự luận)"
JUSTICE_SLUG = "can-tho-so-tu-phap"
WARD_CODE = "31135"
STAFF_PASSWORD = "canbo-demo-2026"  # noqa: S105 — printed demo credentials, never used in production
CITIZEN_PASSWORD = "thisinh-demo-2026"  # noqa: S105
JUDGES = [("giamkhao2.stp", "Đặng Thị Giám Khảo Hai", "0901000006"),
          ("giamkhao3.stp", "Bùi Văn Giám Khảo Ba", "0901000007")]
CONTESTANTS = [
    ("0912000101", "Nguyễn Thị Mai", dt.date(1985, 2, 14)), ("0912000102", "Trần Văn Hùng", dt.date(1990, 7, 3)),
    ("0912000103", "Lê Thị Thu Hà", dt.date(1978, 11, 21)), ("0912000104", "Phạm Minh Tuấn", dt.date(2001, 4, 9)),
    ("0912000105", "Võ Thị Ngọc Ánh", dt.date(1995, 9, 30)), ("0912000106", "Huỳnh Văn Phúc", dt.date(1969, 1, 17)),
    ("0912000107", "Đỗ Thị Kim Liên", dt.date(1999, 12, 5)), ("0912000108", "Ngô Quốc Bảo", dt.date(2003, 6, 12)),
]
ESSAY_STEM = ("<p>Theo Luật Hôn nhân và gia đình năm 2014, hãy nêu các điều kiện kết hôn và cho biết "
              "những trường hợp nào bị cấm kết hôn.</p>")
ESSAY_EXPLANATION = (
    "Điều 8 Luật Hôn nhân và gia đình năm 2014: nam từ đủ 20 tuổi trở lên, nữ từ đủ 18 tuổi trở lên; việc kết "
    "hôn do nam và nữ tự nguyện quyết định; không bị mất năng lực hành vi dân sự; việc kết hôn không thuộc một "
    "trong các trường hợp cấm kết hôn theo điểm a, b, c và d khoản 2 Điều 5: kết hôn giả tạo; tảo hôn, cưỡng ép "
    "kết hôn, lừa dối kết hôn, cản trở kết hôn; người đang có vợ, có chồng mà kết hôn với người khác hoặc chưa "
    "có vợ, chưa có chồng mà kết hôn với người đang có chồng, có vợ; kết hôn giữa những người cùng dòng máu về "
    "trực hệ, giữa những người có họ trong phạm vi ba đời, giữa cha, mẹ nuôi với con nuôi, giữa người đã từng "
    "là cha, mẹ nuôi với con nuôi, cha chồng với con dâu, mẹ vợ với con rể, cha dượng với con riêng của vợ, mẹ "
    "kế với con riêng của chồng.")
RUBRIC = ("Tối đa 5 điểm. Nêu đúng độ tuổi kết hôn của nam và nữ: 1 điểm. Tự nguyện: 1 điểm. Không bị mất năng "
          "lực hành vi dân sự: 1 điểm. Nêu được các trường hợp cấm kết hôn (ít nhất 3 trường hợp): 1,5 điểm. Trình "
          "bày rõ ràng, dẫn đúng Điều 8 và Điều 5: 0,5 điểm. Cho điểm đến 0,25.")
ESSAYS = [
    "Theo Điều 8, nam từ đủ 20 tuổi, nữ từ đủ 18 tuổi; hai bên tự nguyện; không bị mất năng lực hành vi dân sự; "
    "không thuộc trường hợp cấm như kết hôn giả tạo, tảo hôn, cưỡng ép, người đang có vợ có chồng, cùng dòng máu "
    "trực hệ hoặc có họ trong phạm vi ba đời.",
    "Nam 20 tuổi, nữ 18 tuổi, phải tự nguyện. Cấm tảo hôn và cấm người đang có vợ lấy thêm vợ.",
    "Điều kiện: đủ tuổi (nam 20, nữ 18), tự nguyện, có năng lực hành vi dân sự. Cấm kết hôn giả tạo, cưỡng ép, "
    "lừa dối, cản trở kết hôn; cấm kết hôn giữa những người cùng dòng máu trực hệ, có họ trong ba đời, giữa cha "
    "mẹ nuôi và con nuôi.",
    "Phải đủ 18 tuổi cả nam và nữ và đăng ký tại Ủy ban nhân dân xã.",
    "Nam từ đủ 20 tuổi, nữ từ đủ 18 tuổi; tự nguyện; không mất năng lực hành vi dân sự; không thuộc các trường "
    "hợp cấm kết hôn tại khoản 2 Điều 5.",
    "Hai người yêu nhau và được gia đình đồng ý thì được kết hôn.",
    "Độ tuổi: nam đủ 20, nữ đủ 18. Tự nguyện, không bị ép buộc. Người đang có vợ hoặc chồng không được kết hôn "
    "với người khác. Không kết hôn với người cùng dòng máu trực hệ.",
    "Điều kiện kết hôn gồm độ tuổi, sự tự nguyện và năng lực hành vi dân sự; các trường hợp cấm gồm kết hôn giả "
    "tạo, tảo hôn, cưỡng ép và kết hôn cận huyết.",
]


def _staff(username: str, full_name: str, phone: str) -> Any:
    user, _ = User.objects.update_or_create(username=username, defaults={
        "full_name": full_name, "phone": phone, "email": f"{username}@example.vn", "is_active": True,
        "is_staff": True, "is_superuser": False})
    if not user.check_password(STAFF_PASSWORD):
        user.set_password(STAFF_PASSWORD)
        user.save(update_fields=["password"])
    return user


def _citizen(phone: str, full_name: str, born: dt.date, unit: Any) -> Any:
    user, created = User.objects.get_or_create(username=f"demo{phone}", defaults={
        "full_name": full_name, "phone": phone, "is_active": True})
    if created or not user.check_password(CITIZEN_PASSWORD):
        user.set_password(CITIZEN_PASSWORD)
        user.save(update_fields=["password"])
    CitizenProfile.objects.update_or_create(user=user, defaults={
        "unit": unit, "date_of_birth": born, "privacy_notice_version": settings.PRIVACY_NOTICE_VERSION,
        "privacy_consent_at": timezone.now()})
    return user


def _essay_question(organisation: Any) -> Any:
    found = Question.objects.filter(organisation=organisation, type="essay", stem__contains="điều kiện kết hôn",
                                    is_current=True).first()
    if found is not None:
        return found
    return question_create(organisation=organisation, author=None, type="essay", stem=ESSAY_STEM,
                           explanation=ESSAY_EXPLANATION, citation_document="52/2014/QH13", citation_article="8",
                           points=Decimal(5), visibility=Visibility.PRIVATE, status=QuestionStatus.APPROVED)


def _answer(attempt: Any, user: Any, position: int, snapshot: dict, key: dict, right: bool, text: str,
            seq: int, now: dt.datetime) -> None:
    if snapshot.get("type") == "essay":
        response: dict = {"text": text}
    else:
        options = snapshot.get("options", [])
        fractions = key.get("options", {})
        correct = [o["id"] for o in options if Decimal(fractions.get(str(o["id"]), "0")) > 0]
        wrong = [o["id"] for o in options if o["id"] not in correct]
        response = {"options": [correct[0] if right or not wrong else wrong[0]]}
    attempt_answer(attempt_id=attempt.pk, user_id=user.pk, position=position, response=response, client_seq=seq,
                   now=now)


@demo_loader(order=60, name="judging")
def load(stdout: Any) -> None:
    justice = Organisation.objects.filter(slug=JUSTICE_SLUG).first()
    ward = Organisation.objects.filter(official_code=WARD_CODE).first()
    if justice is None or ward is None:
        stdout.write("  judging: demo organisations missing — skipped (the accounts loader runs first)")
        return
    judges = [_staff(*spec) for spec in JUDGES]
    for judge in judges:
        membership_grant(actor=None, user=judge, organisation=justice, role=Role.JUDGE)
    contest, _ = Contest.objects.update_or_create(slug=CONTEST_SLUG, defaults={
        "organisation": justice, "title": "Hội thi tìm hiểu pháp luật (thử) — vòng chung kết",
        "summary": "Vòng chung kết mẫu có câu hỏi tự luận, để thử chấm bài, đề xuất, phê duyệt và công bố kết quả.",
        "rules_text": "<p>Mỗi thí sinh làm 5 câu trắc nghiệm (1 điểm mỗi câu) và 1 câu tự luận (5 điểm) do hai giám "
                      "khảo chấm độc lập. Giải: 1 Giải Nhất, 1 Giải Nhì, 2 Giải Ba.</p>",
        "visibility": ContestVisibility.PUBLISHED, "time_limit_seconds": 30 * 60, "max_attempts": 1,
        "counted_attempt": "first", "prediction_enabled": False, "scoring_rule": "weighted",
        "presentation": "all_on_one_page", "allow_answer_change": True})
    existing = Round.objects.filter(contest=contest, name=ROUND_NAME).first()
    if existing is not None:
        stdout.write(f"  judging: “{contest.title}” — round with essays already loaded "
                     f"(/judging/rounds/{existing.pk}/)")
        return

    essay = _essay_question(justice)
    choices = list(Question.objects.filter(organisation=justice, status=QuestionStatus.APPROVED, is_current=True)
                   .exclude(type="essay").filter(type="single").order_by("pk").values_list("pk", flat=True)[:5])
    if len(choices) < 5:
        stdout.write("  judging: fewer than five approved questions in the bank — skipped")
        return
    now = timezone.now().replace(microsecond=0)
    opens = now - dt.timedelta(days=3)
    round_ = Round.objects.create(contest=contest, name=ROUND_NAME, position=1, opens_at=opens,
                                  closes_at=now - dt.timedelta(days=1),
                                  blueprint=[{"question_ids": choices, "points": 1},
                                             {"question_ids": [essay.pk], "points": 5}])
    EssayGradingSettings.objects.get_or_create(round=round_, defaults={"threshold": Decimal("1.00")})
    rng = random.Random(2026)  # the demo is the same on every machine
    for index, (phone, name, born) in enumerate(CONTESTANTS):
        user = _citizen(phone, name, born, ward)
        registration_create(user=user, contest=contest, now=opens)
        started = opens + dt.timedelta(hours=2 + index, minutes=rng.randint(0, 50))
        attempt = attempt_start(user=user, round=round_, now=started)
        questions = list(AttemptQuestion.objects.filter(attempt=attempt).order_by("position"))
        right = 5 - (index % 4)
        for seq, question in enumerate(questions, start=1):
            _answer(attempt, user, question.position, question.snapshot, question.key, right=seq <= right,
                    text=ESSAYS[index], seq=seq, now=started + dt.timedelta(minutes=seq * 2))
        attempt_submit(attempt=attempt, now=started + dt.timedelta(minutes=12 + index, seconds=rng.randint(0, 59)))
    question_retire(question=essay, actor=None, reason="Câu tự luận của vòng chung kết mẫu: không rút ngẫu nhiên.")
    essay_assignments_create(round=round_)
    round_close(round=round_, now=now)
    guide_author = judges[0]
    essay_guide_save(actor=guide_author, round=round_, question=essay, model_answer="", rubric=RUBRIC, now=now)
    stdout.write(f"  judging: “{contest.title}” — closed round with {len(CONTESTANTS)} essays to grade: "
                 f"/judging/rounds/{round_.pk}/ (judges 0901000002, 0901000006, 0901000007; organiser 0901000001 "
                 f"approves and publishes)")
