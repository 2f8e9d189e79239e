"""Domain errors of surveys, with the Vietnamese message the person sees."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from contests.errors import ContestError


class SurveyError(ContestError):
    code = "survey_error"
    default_message = _("Không thể thực hiện yêu cầu khảo sát.")


class SurveyNotFound(SurveyError):
    code = "not_found"
    default_message = _("Không tìm thấy khảo sát.")


class SurveyNotOpen(SurveyError):
    code = "survey_not_open"
    default_message = _("Khảo sát này hiện không mở để trả lời.")


class NotInAudience(SurveyError):
    code = "not_in_audience"
    default_message = _("Khảo sát này chỉ dành cho người thuộc đơn vị hoặc cuộc thi mà ban tổ chức đã chọn.")


class AlreadyResponded(SurveyError):
    code = "already_responded"
    default_message = _("Bạn đã trả lời khảo sát này. Mỗi người chỉ gửi một phiếu.")


class ConsentRequired(SurveyError):
    code = "consent_required"
    default_message = _("Vui lòng đánh dấu đồng ý để gửi phiếu trả lời gắn với tài khoản của bạn.")


class InvalidAnswers(SurveyError):
    """``problems`` maps a question id to its message (shown next to the question)."""

    code = "invalid_answers"
    default_message = _("Phiếu trả lời chưa hợp lệ, vui lòng xem lại các câu được đánh dấu.")

    def __init__(self, problems: dict[int, str]) -> None:
        super().__init__()
        self.problems = problems


class SurveyLocked(SurveyError):
    code = "survey_locked"
    default_message = _("Khảo sát đã có phiếu trả lời: không thể sửa câu hỏi, phương án hay chế độ ẩn danh.")
