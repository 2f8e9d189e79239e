"""Domain errors of anticheat: a stable ``code`` and a Vietnamese ``message`` safe to show."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


class AntiCheatError(Exception):
    code: str = "anticheat_error"
    default_message = _("Không thể thực hiện yêu cầu.")

    def __init__(self, message: str | None = None) -> None:
        self.message = str(message if message is not None else self.default_message)
        super().__init__(self.message)


class PermissionDenied(AntiCheatError):
    code = "permission_denied"
    default_message = _("Bạn không có quyền thực hiện thao tác này.")


class ReasonRequired(AntiCheatError):
    code = "reason_required"
    default_message = _("Cần ghi rõ lý do của quyết định.")


class InvalidAction(AntiCheatError):
    code = "invalid_action"
    default_message = _("Quyết định không hợp lệ.")


class NotFlagged(AntiCheatError):
    code = "not_flagged"
    default_message = _("Lượt thi này không có cảnh báo nào để xem xét.")


class AlreadyDecided(AntiCheatError):
    code = "already_decided"
    default_message = _("Lượt thi đã có quyết định; hãy huỷ quyết định đó trước khi quyết định lại.")


class NothingToRevert(AntiCheatError):
    code = "nothing_to_revert"
    default_message = _("Lượt thi chưa có quyết định nào để huỷ.")


class AttemptNotFinished(AntiCheatError):
    code = "attempt_not_finished"
    default_message = _("Lượt thi chưa kết thúc nên chưa thể loại.")
