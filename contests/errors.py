"""Domain errors of contests. Each has a stable ``code`` (snake_case; sent in WebSocket error frames and
documented in docs/protocol.md) and a Vietnamese ``message`` for the contestant."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


class ContestError(Exception):
    code: str = "contest_error"
    default_message = _("Không thể thực hiện yêu cầu.")

    def __init__(self, message: str | None = None, **params: object) -> None:
        self.params = params
        self.message = str(message if message is not None else self.default_message)
        super().__init__(self.message)

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


class NotFound(ContestError):
    code = "not_found"
    default_message = _("Không tìm thấy.")


class ContestNotPublished(ContestError):
    code = "contest_not_published"
    default_message = _("Cuộc thi chưa được công bố.")


class ProfileIncomplete(ContestError):
    code = "profile_incomplete"
    default_message = _("Vui lòng cập nhật đầy đủ họ tên, ngày sinh và đơn vị trước khi đăng ký dự thi.")


class AlreadyRegistered(ContestError):
    code = "already_registered"
    default_message = _("Bạn đã đăng ký cuộc thi này.")


class NationalIdTaken(ContestError):
    """One person, one account per contest (DOMAIN: multiple accounts disqualify)."""

    code = "national_id_taken"
    default_message = _("Số định danh cá nhân này đã được dùng để đăng ký cuộc thi bằng một tài khoản khác. "
                        "Mỗi người chỉ dự thi bằng một tài khoản; nếu có nhầm lẫn, vui lòng liên hệ ban tổ chức.")


class NotRegistered(ContestError):
    code = "not_registered"
    default_message = _("Bạn chưa đăng ký dự thi cuộc thi này.")


class TooYoung(ContestError):
    code = "too_young"
    default_message = _("Bạn chưa đủ tuổi tham gia cuộc thi này.")


class GuardianConsentRequired(ContestError):
    code = "guardian_consent_required"
    default_message = _("Cần có sự đồng ý của cha, mẹ hoặc người giám hộ trước khi dự thi.")


class UnitNotEligible(ContestError):
    code = "unit_not_eligible"
    default_message = _("Đơn vị của bạn không thuộc phạm vi cuộc thi.")


class StaffNotEligible(ContestError):
    code = "staff_not_eligible"
    default_message = _("Thành viên Ban tổ chức, Ban giám khảo, Tổ ra đề và Tổ thẩm định không được dự thi.")


class RoundNotOpen(ContestError):
    code = "round_not_open"
    default_message = _("Đợt thi chưa mở hoặc đã kết thúc.")


class RoundStillAccepting(ContestError):
    """The round's close has passed but its network grace has not: an answer or a submit sent before the
    close may still arrive and be accepted, so the official close must wait."""

    code = "round_still_accepting"
    default_message = _("Đợt thi vừa kết thúc nhưng còn trong thời gian bù trễ mạng: bài nộp sát giờ vẫn đang "
                        "được nhận. Vui lòng đóng chính thức sau ít giây.")


class NoAttemptsLeft(ContestError):
    code = "no_attempts_left"
    default_message = _("Bạn đã dùng hết số lượt thi của đợt này.")


class BlueprintUnsatisfiable(ContestError):
    """The bank cannot fill a blueprint draw (``for_cell``) or a fixed question cannot be used
    (``fixed_unusable``). The code stays ``blueprint_unsatisfiable`` whatever the message."""

    code = "blueprint_unsatisfiable"
    default_message = _("Ngân hàng câu hỏi chưa đủ câu hỏi đã duyệt cho cấu trúc đề.")
    # What a contestant reads instead of ``message`` (which names questions and cells for the staff).
    citizen_message = _("Đề thi của đợt này đang được Ban tổ chức điều chỉnh nên chưa bắt đầu làm bài được. "
                        "Vui lòng thử lại sau ít phút; lượt thi của bạn không bị mất.")

    @classmethod
    def for_cell(cls, *, cell: str, needed: int, available: int) -> BlueprintUnsatisfiable:
        """``cell`` is the draw's label, "topic path × difficulty label" (see
        ``contests.blueprints.blueprint_cell_label``)."""
        message = _("Không đủ câu hỏi đã duyệt cho ô «%(cell)s»: cần %(needed)s, chỉ có %(available)s.") % {
            "cell": cell, "needed": needed, "available": available}
        return cls(message, cell=cell, needed=needed, available=available)

    @classmethod
    def fixed_unusable(cls, *, question_ids: list[int]) -> BlueprintUnsatisfiable:
        message = _("Câu hỏi cố định không dùng được (phải đã duyệt, là phiên bản hiện hành và tổ chức được "
                    "phép dùng; không hai câu cùng một câu hỏi gốc): %(ids)s.") % {
            "ids": ", ".join(f"#{pk}" for pk in question_ids)}
        return cls(message, question_ids=question_ids)


class AttemptNotFound(ContestError):
    code = "attempt_not_found"
    default_message = _("Không tìm thấy lượt thi.")


class AttemptClosed(ContestError):
    code = "attempt_closed"
    default_message = _("Lượt thi đã kết thúc, không thể ghi nhận thêm câu trả lời.")


class DeadlinePassed(ContestError):
    code = "deadline_passed"
    default_message = _("Đã hết giờ làm bài, câu trả lời gửi muộn không được ghi nhận.")


class QuestionNotInAttempt(ContestError):
    code = "question_not_in_attempt"
    default_message = _("Câu hỏi không thuộc lượt thi này.")


class QuestionNotReleased(ContestError):
    code = "question_not_released"
    default_message = _("Câu hỏi này chưa được hiển thị.")


class InvalidResponse(ContestError):
    code = "invalid_response"
    default_message = _("Câu trả lời không hợp lệ.")


class InvalidSequence(ContestError):
    code = "invalid_seq"
    default_message = _("Số thứ tự gửi không hợp lệ.")


class AnswerLocked(ContestError):
    code = "answer_locked"
    default_message = _("Đợt thi này không cho phép thay đổi câu trả lời đã gửi.")


class PredictionDisabled(ContestError):
    code = "prediction_disabled"
    default_message = _("Đợt thi này không có câu hỏi dự đoán.")


class InvalidPrediction(ContestError):
    code = "invalid_prediction"
    default_message = _("Dự đoán phải là một số nguyên không âm.")


class InvalidSettings(ContestError):
    code = "invalid_settings"
    default_message = _("Thiết lập cuộc thi không hợp lệ.")


class OverrideInvalid(ContestError):
    """A refused exception to the rules. ``field`` names the form field at fault (the admin shows the message
    on it); the message says what is wrong with it and what would be accepted."""

    code = "override_invalid"
    default_message = _("Điều chỉnh không hợp lệ.")

    def __init__(self, message: str | None = None, *, field: str | None = None, **params: object) -> None:
        super().__init__(message, **params)
        self.field = field


class RoundResultsPublished(ContestError):
    """The round's official results are published: it cannot be reopened or extended (docs/contest-rules.md,
    *Overrides*, says what can be done instead)."""

    code = "round_results_published"
    default_message = _("Kết quả chính thức của đợt thi đã được công bố nên không thể mở lại hay gia hạn đợt. "
                        "Thay vào đó có thể: thêm một đợt thi bổ sung vào cuộc thi (cho những người bị ảnh "
                        "hưởng), hoặc đính chính kết quả bằng «Tính lại kết quả» có ghi lý do (phải phê duyệt "
                        "và công bố lại).")


class ReasonRequired(ContestError):
    code = "reason_required"
    default_message = _("Cần ghi rõ lý do.")


class RegistrationFrozen(ContestError):
    code = "registration_frozen"
    default_message = _("Thông tin dự thi đã bị khoá sau lượt thi đầu tiên; liên hệ Ban tổ chức để điều chỉnh.")
