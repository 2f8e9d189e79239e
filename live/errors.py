"""Domain errors of live games. ``code`` is stable (sent in WebSocket error frames, documented in
docs/protocol.md); ``message`` is Vietnamese (gettext), ready to show."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


class LiveError(Exception):
    code: str = "live_error"
    default_message = _("Không thể thực hiện yêu cầu.")

    def __init__(self, message: str | None = None, **params: object) -> None:
        self.params = params
        self.message = str(message if message is not None else self.default_message)
        super().__init__(self.message)

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


# --- joining -------------------------------------------------------------------------------------------------
class SessionNotFound(LiveError):
    code = "session_not_found"
    default_message = _("Không tìm thấy trò chơi với mã PIN này, hoặc trò chơi đã kết thúc.")


class JoinClosed(LiveError):
    code = "join_closed"
    default_message = _("Trò chơi đã bắt đầu và không nhận thêm người chơi.")


class NicknameInvalid(LiveError):
    code = "nickname_invalid"
    default_message = _("Biệt danh phải có từ 2 đến 30 ký tự.")


class NicknameTaken(LiveError):
    code = "nickname_taken"
    default_message = _("Biệt danh này đã có người dùng, vui lòng chọn biệt danh khác.")


class LoginRequired(LiveError):
    code = "login_required"
    default_message = _("Trò chơi này chỉ dành cho thí sinh đã đăng ký: vui lòng đăng nhập.")


class NotRegistered(LiveError):
    code = "not_registered"
    default_message = _("Bạn chưa đăng ký dự thi cuộc thi của trò chơi này.")


class TooManyJoins(LiveError):
    code = "rate_limited"
    default_message = _("Bạn thử quá nhiều lần, vui lòng chờ một chút.")


# --- playing -------------------------------------------------------------------------------------------------
class PlayerNotFound(LiveError):
    code = "player_not_found"
    default_message = _("Bạn chưa tham gia trò chơi này. Vui lòng nhập mã PIN để tham gia.")


class SessionFinished(LiveError):
    code = "session_finished"
    default_message = _("Trò chơi đã kết thúc.")


class GamePaused(LiveError):
    code = "game_paused"
    default_message = _("Trò chơi đang tạm dừng, câu trả lời chưa được ghi nhận.")


class QuestionNotOpen(LiveError):
    code = "question_not_open"
    default_message = _("Câu hỏi này chưa mở hoặc không còn nhận câu trả lời.")


class DeadlinePassed(LiveError):
    code = "deadline_passed"
    default_message = _("Đã hết giờ trả lời câu này, câu trả lời gửi muộn không được tính.")


class AlreadyAnswered(LiveError):
    code = "already_answered"
    default_message = _("Bạn đã trả lời câu này; mỗi câu chỉ được trả lời một lần.")


class Eliminated(LiveError):
    code = "eliminated"
    default_message = _("Bạn đã bị loại, hãy theo dõi tiếp các câu hỏi.")


class InvalidResponse(LiveError):
    code = "invalid_response"
    default_message = _("Câu trả lời không hợp lệ.")


# --- hosting -------------------------------------------------------------------------------------------------
class NotHost(LiveError):
    code = "not_host"
    default_message = _("Chỉ Ban tổ chức hoặc Giám khảo của đơn vị tổ chức mới điều khiển được trò chơi.")


class WrongPhase(LiveError):
    code = "wrong_phase"
    default_message = _("Không thể thực hiện lệnh này ở giai đoạn hiện tại của trò chơi.")


class NoMoreQuestions(LiveError):
    code = "no_more_questions"
    default_message = _("Đã hết câu hỏi: hãy kết thúc trò chơi.")


class RescueInvalid(LiveError):
    code = "rescue_invalid"
    default_message = _("Lệnh cứu trợ không hợp lệ.")


class NoPlayers(LiveError):
    code = "no_players"
    default_message = _("Chưa có người chơi nào tham gia.")


class SettingsInvalid(LiveError):
    code = "settings_invalid"
    default_message = _("Thiết lập trò chơi không hợp lệ.")


class NotEnoughQuestions(LiveError):
    code = "not_enough_questions"
    default_message = _("Ngân hàng chưa đủ câu hỏi trắc nghiệm đã duyệt cho trò chơi này.")


def all_errors() -> list[type[LiveError]]:
    found, pending = [], [LiveError]
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return found
