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
    default_message = _("Điểm phải là một số, ví dụ 4 hoặc 4,5.")


class MarkOutOfRange(InvalidMark):
    code = "mark_out_of_range"
    default_message = _("Điểm phải từ 0 đến điểm tối đa của câu hỏi.")
    template = _("Điểm phải từ 0 đến %(max)s.")


class MarkTooPrecise(InvalidMark):
    code = "mark_too_precise"
    default_message = _("Điểm chỉ được có tối đa 2 chữ số thập phân, ví dụ 2,55.")


class CorrectionClosed(JudgingError):
    code = "correction_closed"
    default_message = _("Kết quả đã được đề xuất nên không thể tự sửa điểm nữa; việc điều chỉnh sau đó phải qua "
                        "thủ tục khiếu nại (chấm lại).")


class RegradeNotFinal(JudgingError):
    code = "regrade_not_final"
    default_message = _("Chỉ chấm lại được bài đã có điểm cuối cùng.")


class SelfApproval(NotAllowed):
    code = "self_approval"
    default_message = _("Bạn là người đề xuất kết quả này nên không thể tự phê duyệt: cần một thành viên khác "
                        "của Ban tổ chức phê duyệt.")


class RankingStale(JudgingError):
    code = "ranking_stale"
    default_message = _("Dữ liệu đã thay đổi sau khi tính kết quả này (điểm tự luận, quyết định loại hoặc chấm "
                        "lại): cần tính lại kết quả trước khi tiếp tục.")


class VersionMismatch(NotCurrentVersion):
    code = "version_mismatch"
    default_message = _("Kết quả đã được tính lại trong lúc bạn xem: hãy xem phiên bản mới trước khi quyết định.")


class PrizesNotConfirmed(JudgingError):
    code = "prizes_not_confirmed"
    default_message = _("Kết quả chưa có giải nào. Hãy đặt số giải, hoặc xác nhận công bố không có giải.")


class InvalidPrizes(JudgingError):
    code = "invalid_prizes"
    default_message = _("Số giải phải là số nguyên từ 0 trở lên.")


class InvalidPrizeTieRule(JudgingError):
    code = "invalid_prize_tie_rule"
    default_message = _("Hãy chọn cách xử lý người đồng hạng ở ranh giới giải.")


class PrizeTieUndecided(JudgingError):
    """A prize line falls inside a tie the tie-break chain cannot break and the organiser has not decided (or
    the chosen further criterion does not break it either): the cut is never made silently."""

    code = "prize_tie_undecided"
    default_message = _("Có thí sinh đồng hạng ở ranh giới giải: Ban tổ chức cần quyết định trao giải cho tất cả "
                        "người đồng hạng hoặc xét thêm một tiêu chí trước khi đề xuất, phê duyệt hay công bố.")


class NotPublished(JudgingError):
    code = "not_published"
    default_message = _("Kết quả này không ở trạng thái đã công bố.")


class NoticeRequired(JudgingError):
    code = "notice_required"
    default_message = _("Cần nội dung thông báo công khai.")


class ComplaintClosed(JudgingError):
    code = "complaint_closed"
    default_message = _("Khiếu nại này đã có kết luận.")


class ComplaintNotAllowed(JudgingError):
    code = "complaint_not_allowed"
    default_message = _("Chỉ tiếp nhận khiếu nại khi kết quả của đợt thi đã được công bố.")


class RegradePending(JudgingError):
    code = "regrade_pending"
    default_message = _("Bài đang được chấm lại: chờ có điểm chấm lại rồi mới kết luận.")


class ComplaintContentRequired(JudgingError):
    code = "complaint_content_required"
    default_message = _("Cần ghi nội dung khiếu nại.")
