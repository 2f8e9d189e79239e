"""Domain errors of exports, with Vietnamese messages for staff."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


class ExportError(Exception):
    code = "export_error"
    default_message = _("Không thể xuất dữ liệu.")

    def __init__(self, message: str | None = None) -> None:
        self.message = str(message if message is not None else self.default_message)
        super().__init__(self.message)


class ExportNotAllowed(ExportError):
    code = "export_not_allowed"
    default_message = _("Chỉ Ban tổ chức và Ban giám khảo của đơn vị tổ chức cuộc thi được xuất kết quả.")


class ExportNotReady(ExportError):
    code = "export_not_ready"
    default_message = _("Tệp xuất dữ liệu chưa sẵn sàng.")


class ExportBlindGrading(ExportError):
    code = "export_blind_grading"
    default_message = _("Trong khi còn bài tự luận chưa có điểm, giám khảo chưa được xuất dữ liệu của đợt thi "
                        "(bảng xếp hạng có tên thí sinh và bài làm sẽ cho biết bài nào của ai).")


class ExportNothingPublished(ExportError):
    code = "export_nothing_published"
    default_message = _("Chưa có kết quả nào được công bố: bản để công bố chỉ gồm kết quả đã công bố.")


class ExportPublishedAnswers(ExportError):
    code = "export_published_answers"
    default_message = _("Bản để công bố không gồm bài làm: hãy chọn “Bảng kết quả (Excel)”.")
