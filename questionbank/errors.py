"""Domain errors of the question bank, with messages for the people who write and review questions."""

from __future__ import annotations

from collections.abc import Sequence


class QuestionBankError(Exception):
    """Base of question-bank domain errors; ``message`` is Vietnamese and safe to show."""

    default_message = "Không thực hiện được thao tác với câu hỏi."

    def __init__(self, message: str | None = None):
        self.message = message or self.default_message
        super().__init__(self.message)


class QuestionValidationError(QuestionBankError):
    default_message = "Câu hỏi không hợp lệ."

    def __init__(self, messages: Sequence[str]):
        self.messages = list(messages)
        super().__init__("; ".join(self.messages))


class QuestionPermissionDenied(QuestionBankError):
    default_message = "Bạn không có quyền thực hiện thao tác này với câu hỏi."


class QuestionStateError(QuestionBankError):
    default_message = "Trạng thái của câu hỏi không cho phép thao tác này."


class MediaRejected(QuestionBankError):
    default_message = "Tệp đính kèm không hợp lệ."
