"""Domain errors of practice, with the Vietnamese message a citizen sees."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from contests.errors import ContestError


class PracticeError(ContestError):
    code = "practice_error"
    default_message = _("Không thể thực hiện yêu cầu luyện tập.")


class SessionNotFound(PracticeError):
    code = "not_found"
    default_message = _("Không tìm thấy lượt luyện tập.")


class NoQuestions(PracticeError):
    code = "no_questions"
    default_message = _("Hiện chưa có câu hỏi luyện tập phù hợp. Một số câu hỏi tạm ẩn vì đang được dùng cho "
                        "cuộc thi; vui lòng chọn chủ đề khác hoặc quay lại sau khi đợt thi kết thúc.")


class InvalidChoice(PracticeError):
    code = "invalid_choice"
    default_message = _("Lựa chọn luyện tập không hợp lệ.")


class SessionFinished(PracticeError):
    code = "session_finished"
    default_message = _("Lượt luyện tập này đã kết thúc.")


class TimeUp(PracticeError):
    code = "time_up"
    default_message = _("Đã hết thời gian của lượt luyện tập; câu trả lời này không được tính.")


class QuestionWithdrawn(PracticeError):
    code = "question_withdrawn"
    default_message = _("Câu hỏi này vừa được dành cho một cuộc thi nên tạm không dùng để luyện tập. "
                        "Mời bạn làm câu tiếp theo.")


class MockUnavailable(PracticeError):
    code = "mock_unavailable"
    default_message = _("Chưa đủ câu hỏi luyện tập để thi thử theo cấu trúc đề này.")
