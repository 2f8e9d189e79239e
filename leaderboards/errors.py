"""Domain errors of leaderboards: a stable ``code`` and a Vietnamese ``message`` safe to show."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


class LeaderboardError(Exception):
    code: str = "leaderboard_error"
    default_message = _("Không thể thực hiện yêu cầu về bảng xếp hạng.")

    def __init__(self, message: str | None = None) -> None:
        self.message = str(message if message is not None else self.default_message)
        super().__init__(self.message)

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


class PermissionDenied(LeaderboardError):
    code = "permission_denied"
    default_message = _("Bạn không có quyền thực hiện thao tác này.")


class RoundNotClosed(LeaderboardError):
    code = "round_not_closed"
    default_message = _("Đợt thi chưa kết thúc nên chưa thể xếp hạng chính thức.")


class RankingLocked(LeaderboardError):
    code = "ranking_locked"
    default_message = _("Kết quả xếp hạng đã được đề xuất hoặc công bố; chỉ được tính lại khi có lý do "
                        "điều chỉnh (và phải phê duyệt lại).")


class ReasonRequired(LeaderboardError):
    code = "reason_required"
    default_message = _("Cần ghi rõ lý do.")


class AlreadyDisqualified(LeaderboardError):
    code = "already_disqualified"
    default_message = _("Lượt thi hoặc thí sinh này đã bị loại.")


class NotDisqualified(LeaderboardError):
    code = "not_disqualified"
    default_message = _("Quyết định loại này không còn hiệu lực.")


class AttemptNotFinished(LeaderboardError):
    code = "attempt_not_finished"
    default_message = _("Chỉ loại được lượt thi đã nộp bài.")


class PopulationInvalid(LeaderboardError):
    """Pasted or typed unit populations with problems: ``problems`` lists each with its line, in Vietnamese;
    nothing was saved."""

    code = "population_invalid"
    default_message = _("Số người của đơn vị không hợp lệ; chưa lưu gì.")

    def __init__(self, problems: list[str]) -> None:
        super().__init__()
        self.problems = problems
