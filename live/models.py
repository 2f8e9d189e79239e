"""Live host-paced games: Kahoot-style quizzes and "Rung chuông vàng" elimination (docs/live.md).

PostgreSQL is the truth: the session row holds the phase, the current question and its server deadline;
every answer is a row (one per player and question — a database constraint); each player's score, streak,
answer time, status and rank are folded in once per question when the question closes
(``live.services.game.question_close``) and can be replayed from the answers and the rescue log
(``live.services.game.session_replay``). Redis only carries the broadcasts and presence (which connection
of a player is the active one), so any server process serves any player.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.models import Organisation

MIN_SECONDS_PER_QUESTION = 5
MAX_SECONDS_PER_QUESTION = 240
MAX_QUESTIONS = 100


class GameMode(models.TextChoices):
    CLASSIC = "classic", _("Trả lời nhanh (kiểu Kahoot)")
    ELIMINATION = "elimination", _("Rung chuông vàng (trả lời sai bị loại)")


class LiveScoring(models.TextChoices):
    PLAIN = "plain", _("Mỗi câu đúng được 1 điểm")
    SPEED = "speed", _("Điểm theo tốc độ (tối đa 1.000 điểm mỗi câu)")


class JoinPolicy(models.TextChoices):
    ANONYMOUS = "anonymous", _("Ai có mã PIN cũng vào được, tự đặt biệt danh")
    REGISTERED = "registered", _("Chỉ thí sinh đã đăng ký cuộc thi (đăng nhập)")


class LateJoin(models.TextChoices):
    LOBBY = "lobby", _("Chỉ vào được trước khi bắt đầu")
    OPEN = "open", _("Vào được đến khi trò chơi kết thúc")


class Phase(models.TextChoices):
    LOBBY = "lobby", _("Phòng chờ")
    QUESTION = "question", _("Đang trả lời")
    REVEAL = "reveal", _("Công bố đáp án")
    FINISHED = "finished", _("Đã kết thúc")


class PlayerStatus(models.TextChoices):
    ACTIVE = "active", _("Đang thi")
    ELIMINATED = "eliminated", _("Bị loại")


class RescueKind(models.TextChoices):
    QUESTION = "question", _("Cứu tất cả người bị loại ở một câu")
    BEST = "best", _("Cứu K người bị loại có thành tích tốt nhất")


class LiveSession(models.Model):
    """One live game: its settings, its phase and the current question's server deadline.

    ``seq`` grows by one with every change that players are told about (question opened, closed, paused,
    resumed, rescue, end); every pushed frame carries it as ``v``.
    """

    tenant_path = "organisation"

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="live_sessions",
                                     verbose_name=_("đơn vị tổ chức"))
    contest = models.ForeignKey("contests.Contest", null=True, blank=True, on_delete=models.PROTECT,
                                related_name="live_sessions", verbose_name=_("cuộc thi"),
                                help_text=_("Cần khi chỉ cho thí sinh đã đăng ký tham gia; kết quả được lưu thành "
                                            "một đợt thi của cuộc thi này."))
    source_round = models.ForeignKey("contests.Round", null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+", verbose_name=_("rút câu hỏi theo cấu trúc đề của đợt thi"))
    result_round = models.OneToOneField("contests.Round", null=True, blank=True, on_delete=models.SET_NULL,
                                        related_name="live_session", verbose_name=_("đợt thi lưu kết quả"))
    title = models.CharField(_("tên trò chơi"), max_length=200)
    pin = models.CharField(_("mã PIN"), max_length=6)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("người tạo"))

    mode = models.CharField(_("hình thức"), max_length=12, choices=GameMode.choices, default=GameMode.CLASSIC)
    scoring = models.CharField(_("cách tính điểm"), max_length=8, choices=LiveScoring.choices,
                               default=LiveScoring.PLAIN)
    streak_bonus = models.BooleanField(_("thưởng chuỗi câu đúng liên tiếp"), default=False)
    seconds_per_question = models.PositiveSmallIntegerField(
        _("thời gian mỗi câu (giây)"), default=20,
        validators=[MinValueValidator(MIN_SECONDS_PER_QUESTION), MaxValueValidator(MAX_SECONDS_PER_QUESTION)])
    join_policy = models.CharField(_("ai được tham gia"), max_length=10, choices=JoinPolicy.choices,
                                   default=JoinPolicy.ANONYMOUS)
    late_join = models.CharField(_("vào muộn"), max_length=6, choices=LateJoin.choices, default=LateJoin.OPEN)

    phase = models.CharField(_("giai đoạn"), max_length=10, choices=Phase.choices, default=Phase.LOBBY)
    position = models.PositiveSmallIntegerField(_("câu hiện tại"), default=0)
    question_count = models.PositiveSmallIntegerField(_("số câu hỏi"), default=0)
    opened_at = models.DateTimeField(_("câu hiện tại mở lúc"), null=True, blank=True)
    deadline = models.DateTimeField(_("hạn trả lời câu hiện tại"), null=True, blank=True)
    paused_at = models.DateTimeField(_("tạm dừng lúc"), null=True, blank=True)
    paused_remaining_ms = models.PositiveIntegerField(null=True, blank=True)
    seq = models.PositiveBigIntegerField(default=0)
    started_at = models.DateTimeField(_("bắt đầu lúc"), null=True, blank=True)
    ended_at = models.DateTimeField(_("kết thúc lúc"), null=True, blank=True)
    results_saved_at = models.DateTimeField(_("đã lưu kết quả lúc"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = pgettext_lazy("verbose_name", "trò chơi trực tiếp")
        verbose_name_plural = pgettext_lazy("verbose_name_plural", "trò chơi trực tiếp")
        ordering = ["-created_at", "-id"]
        constraints = [
            # A PIN names one game at a time: it is free again once the game is over.
            models.UniqueConstraint(fields=["pin"], condition=~Q(phase="finished"), name="live_pin_unique_open"),
            models.CheckConstraint(condition=Q(seconds_per_question__gte=MIN_SECONDS_PER_QUESTION,
                                               seconds_per_question__lte=MAX_SECONDS_PER_QUESTION),
                                   name="live_seconds_in_range"),
            models.CheckConstraint(condition=~Q(join_policy="registered") | Q(contest__isnull=False),
                                   name="live_registered_needs_contest"),
            # Players who were never in the game cannot be compared with the ones eliminated (docs/live.md).
            models.CheckConstraint(condition=~Q(mode="elimination") | Q(late_join="lobby"),
                                   name="live_elimination_lobby_only"),
            models.CheckConstraint(condition=~Q(streak_bonus=True) | Q(scoring="speed"),
                                   name="live_streak_needs_speed"),
            # Elimination ranks by the last question passed; speed points would not be used.
            models.CheckConstraint(condition=~Q(mode="elimination") | Q(scoring="plain"),
                                   name="live_elimination_plain"),
            models.CheckConstraint(condition=Q(phase__in=Phase.values), name="live_phase_valid"),
        ]
        indexes = [models.Index(fields=["phase", "deadline"], name="live_session_due_idx")]

    def __str__(self) -> str:
        return f"{self.title} ({self.pin})"

    @property
    def is_finished(self) -> bool:
        return self.phase == Phase.FINISHED


class LiveQuestion(models.Model):
    """A question of a game as drawn from the bank: ``snapshot`` is what players see (never the key);
    ``key`` (explanation, citation, option credits) and ``correct_ids`` are sent only with the reveal.
    The counts and ``distribution`` are stored when the question closes."""

    tenant_path = "session__organisation"

    session = models.ForeignKey(LiveSession, on_delete=models.CASCADE, related_name="questions")
    position = models.PositiveSmallIntegerField()
    question = models.ForeignKey("questionbank.Question", on_delete=models.PROTECT, related_name="+")
    snapshot = models.JSONField()
    key = models.JSONField()
    correct_ids = models.JSONField(default=list)
    points = models.DecimalField(max_digits=6, decimal_places=2, default=1)
    opened_at = models.DateTimeField(null=True, blank=True)
    deadline = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    in_game = models.PositiveIntegerField(default=0)
    answered = models.PositiveIntegerField(default=0)
    correct = models.PositiveIntegerField(default=0)
    distribution = models.JSONField(default=dict, blank=True)
    top = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name = pgettext_lazy("verbose_name", "câu hỏi của trò chơi")
        verbose_name_plural = pgettext_lazy("verbose_name_plural", "câu hỏi của trò chơi")
        ordering = ["session", "position"]
        constraints = [models.UniqueConstraint(fields=["session", "position"], name="live_question_position_unique")]

    def __str__(self) -> str:
        return f"{self.session_id}/{self.position}"


class LivePlayer(models.Model):
    """A player of one game: a registered contestant (``registration``) or an anonymous nickname.

    ``first_position`` is the first question the player could answer (late join); ``score``, ``streak``,
    ``time_ms`` (sum of answer times; the time limit for an unanswered question), ``status`` and ``rank`` are
    folded in when each question closes.
    """

    tenant_path = "session__organisation"

    session = models.ForeignKey(LiveSession, on_delete=models.CASCADE, related_name="players")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")
    registration = models.ForeignKey("contests.Registration", null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")
    display_name = models.CharField(_("tên hiển thị"), max_length=150)
    name_key = models.CharField(max_length=150)  # display_name folded: one nickname per game
    first_position = models.PositiveSmallIntegerField(default=1)
    status = models.CharField(_("trạng thái"), max_length=10, choices=PlayerStatus.choices,
                              default=PlayerStatus.ACTIVE)
    eliminated_at = models.PositiveSmallIntegerField(_("bị loại ở câu"), null=True, blank=True)
    score = models.DecimalField(_("điểm"), max_digits=12, decimal_places=3, default=0)
    correct_count = models.PositiveIntegerField(_("số câu đúng"), default=0)
    streak = models.PositiveIntegerField(_("chuỗi đúng hiện tại"), default=0)
    time_ms = models.PositiveBigIntegerField(_("tổng thời gian trả lời (ms)"), default=0)
    rank = models.PositiveIntegerField(_("hạng"), null=True, blank=True)
    joined_at = models.DateTimeField(_("vào lúc"))

    class Meta:
        verbose_name = pgettext_lazy("verbose_name", "người chơi")
        verbose_name_plural = pgettext_lazy("verbose_name_plural", "người chơi")
        ordering = ["session", "rank", "id"]
        constraints = [
            models.UniqueConstraint(fields=["session", "user"], condition=Q(user__isnull=False),
                                    name="live_player_once_per_user"),
            models.UniqueConstraint(fields=["session", "name_key"], name="live_player_name_unique"),
        ]
        # No index on the columns every close rewrites (score, rank…): the rows are then updated as heap-only
        # tuples (see migration 0001's fillfactor), ten thousand of them per question without index writes.

    def __str__(self) -> str:
        return self.display_name


class LiveAnswer(models.Model):
    """A player's one answer to one question (a second one is refused: the constraint is the rule).

    ``options`` are the chosen option ids, sorted, comma-separated. ``elapsed_ms`` is measured by the server
    from the question's opening to the moment the frame reached it; ``is_correct`` and ``points`` are decided
    when the answer is stored and counted when the question closes."""

    tenant_path = "session__organisation"

    session = models.ForeignKey(LiveSession, on_delete=models.CASCADE, related_name="+", db_index=False)
    player = models.ForeignKey(LivePlayer, on_delete=models.CASCADE, related_name="answers")
    position = models.PositiveSmallIntegerField()
    options = models.CharField(max_length=200)
    received_at = models.DateTimeField()
    elapsed_ms = models.PositiveIntegerField()
    is_correct = models.BooleanField()
    points = models.DecimalField(max_digits=9, decimal_places=3)

    class Meta:
        verbose_name = pgettext_lazy("verbose_name", "câu trả lời trực tiếp")
        verbose_name_plural = pgettext_lazy("verbose_name_plural", "câu trả lời trực tiếp")
        constraints = [models.UniqueConstraint(fields=["player", "position"], name="live_answer_once")]
        indexes = [models.Index(fields=["session", "position"], name="live_answer_question_idx")]

    def __str__(self) -> str:
        return f"{self.player_id}/{self.position}"

    @property
    def option_ids(self) -> list[int]:
        return [int(x) for x in self.options.split(",") if x]


class LiveRescue(models.Model):
    """A host's rescue (cứu trợ) in an elimination game: who was brought back, after which question."""

    tenant_path = "session__organisation"

    session = models.ForeignKey(LiveSession, on_delete=models.CASCADE, related_name="rescues")
    after_position = models.PositiveSmallIntegerField(_("sau câu"))
    kind = models.CharField(_("cách cứu"), max_length=10, choices=RescueKind.choices)
    from_position = models.PositiveSmallIntegerField(_("người bị loại ở câu"), null=True, blank=True)
    count = models.PositiveIntegerField(_("số người được cứu (yêu cầu)"), null=True, blank=True)
    player_ids = models.JSONField(default=list)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField()

    class Meta:
        verbose_name = pgettext_lazy("verbose_name", "lượt cứu trợ")
        verbose_name_plural = pgettext_lazy("verbose_name_plural", "lượt cứu trợ")
        ordering = ["session", "at", "id"]

    def __str__(self) -> str:
        return f"{self.session_id} sau câu {self.after_position}: {len(self.player_ids)}"
