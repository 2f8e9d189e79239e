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
