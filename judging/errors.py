"""Domain errors of judging, with Vietnamese messages."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


class JudgingError(Exception):
    code = "judging_error"
    default_message = _("Không thể thực hiện yêu cầu.")

    def __init__(self, message: str | None = None) -> None:
        self.message = str(message if message is not None else self.default_message)
        super().__init__(self.message)


class NotAllowed(JudgingError):
    code = "not_allowed"
    default_message = _("Bạn không có quyền thực hiện thao tác này.")


class InvalidTransition(JudgingError):
    code = "invalid_transition"
    default_message = _("Kết quả không ở trạng thái cho phép thao tác này.")


class NotCurrentVersion(JudgingError):
    code = "not_current_version"
    default_message = _("Đây không phải phiên bản kết quả mới nhất.")


class GradingIncomplete(JudgingError):
    code = "grading_incomplete"
    default_message = _("Chưa chấm xong các bài tự luận của đợt thi.")


class ReasonRequired(JudgingError):
    code = "reason_required"
    default_message = _("Cần ghi rõ lý do.")


class AlreadyGraded(JudgingError):
    code = "already_graded"
    default_message = _("Bạn đã chấm bài này.")


class GradingClosed(JudgingError):
    code = "grading_closed"
    default_message = _("Bài này đã đủ điểm chấm.")


class InvalidMark(JudgingError):
    code = "invalid_mark"
    default_message = _("Điểm phải từ 0 đến điểm tối đa của câu hỏi.")
