"""Stored official rankings, disqualifications and contest-level leaderboard settings.

The official ranking of a round is computed once from the database (``leaderboards.services.ranking``) and
stored as ``RoundRanking`` + ``RankingEntry`` rows, so it never moves when viewed later. Each computation is a
new *version*; the newest version is the current one. The judging/approval workflow (issue 6) moves a
ranking through draft → proposed → approved → published; a locked ranking (anything but draft) is only
recomputed through an explicit, audited revision that creates a new draft version.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.models import Organisation


class RankingStatus(models.TextChoices):
    DRAFT = "draft", _("Bản nháp")
    PROPOSED = "proposed", _("Đã đề xuất")
    APPROVED = "approved", _("Đã phê duyệt")
    PUBLISHED = "published", _("Đã công bố")
    # A published version taken down (with a public notice), or replaced by a newer published version:
    # both stay in the history, neither is shown as the current result.
    WITHDRAWN = "withdrawn", _("Đã thu hồi")
    SUPERSEDED = "superseded", _("Đã được thay thế")


LOCKED_STATUSES = (RankingStatus.PROPOSED, RankingStatus.APPROVED, RankingStatus.PUBLISHED,
                   RankingStatus.WITHDRAWN, RankingStatus.SUPERSEDED)


class PrizeTier(models.TextChoices):
    """Individual prizes, in order: the first ``prizes["first"]`` prize-eligible entries (listing order) get
    the first prize, the next ``prizes["second"]`` the second, and so on."""

    FIRST = "first", _("Giải Nhất")
    SECOND = "second", _("Giải Nhì")
    THIRD = "third", _("Giải Ba")
    ENCOURAGEMENT = "encouragement", _("Giải Khuyến khích")


class PrizeTieRule(models.TextChoices):
    """What happens when a prize line (the last place of a tier) falls inside a tie that the tie-break chain
    cannot break (docs/contest-rules.md, "Ties at a prize line"). Undecided ("") blocks the proposal, approval
    and publication of the ranking until the organiser chooses; the cut is never made silently."""

    UNDECIDED = "", _("Chưa quyết định")
    EXTEND = "extend", _("Trao giải cho tất cả người đồng hạng")
    CORRECT_COUNT = "correct_count", _("Xét thêm: nhiều câu trả lời đúng hơn")
    LOT = "lot", _("Xét thêm: bốc thăm (mã bốc thăm được ghi lại)")


class CollectivePrize(models.TextChoices):
    """Collective (unit) prizes: the units with the most entrants, the highest participation rate (entrants
    / registered population) or the most individual winners."""

    ENTRANTS = "entrants", _("Đơn vị có nhiều người dự thi nhất")
    RATE = "rate", _("Đơn vị có tỉ lệ tham gia cao nhất")
    WINNERS = "winners", _("Đơn vị có nhiều người đoạt giải nhất")


class RoundRanking(models.Model):
    """One computed version of a round's official ranking (entries in ``RankingEntry``)."""

    tenant_path = "round__contest__organisation"

    round = models.ForeignKey("contests.Round", on_delete=models.CASCADE, related_name="rankings",
                              verbose_name=_("đợt thi"))
    version = models.PositiveIntegerField(_("phiên bản"))
    status = models.CharField(_("trạng thái"), max_length=10, choices=RankingStatus.choices,
                              default=RankingStatus.DRAFT, db_index=True)
    computed_at = models.DateTimeField(_("tính lúc"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("người tính"))
    # The rules the ranking was computed with (copied: the round's settings may change later).
    prediction_target_kind = models.CharField(_("câu hỏi dự đoán về"), max_length=20, blank=True)
    prediction_target_value = models.PositiveIntegerField(_("đáp án câu hỏi dự đoán"), null=True, blank=True)
    counted_attempt = models.CharField(_("lượt thi được tính"), max_length=8)
    tie_break_order = models.JSONField(_("thứ tự xét giải phụ"), default=list)
    prize_places = models.PositiveIntegerField(
        _("số giải cá nhân"), default=0,
        help_text=_("Số người đoạt giải (theo thứ tự xếp hạng, bỏ qua người không đủ điều kiện nhận giải)."))
    # Individual prizes per tier ({"first": 1, "second": 3, …}, PrizeTier keys; prize_places is their sum)
    # and collective prizes per kind ({"entrants": 3, …}, CollectivePrize keys). Kept by later versions.
    prizes = models.JSONField(_("cơ cấu giải cá nhân"), default=dict, blank=True)
    collective_prizes = models.JSONField(_("cơ cấu giải tập thể"), default=dict, blank=True)
    # The organiser's decision for ties at a prize line (PrizeTieRule; kept by later versions) and, for a draw
    # by lot, the published seed that makes the draw reproducible (md5(seed:attempt id) orders the tied).
    prize_tie_rule = models.CharField(_("xử lý đồng hạng ở ranh giới giải"), max_length=16, blank=True,
                                      default="", choices=PrizeTieRule.choices)
    prize_tie_seed = models.CharField(_("mã bốc thăm"), max_length=32, blank=True, default="")
    entry_count = models.PositiveIntegerField(_("số thí sinh được xếp hạng"), default=0)
    revision_reason = models.TextField(_("lý do tính lại"), blank=True)
    # Ranks that changed against the previous version: {"changed": n, "rows": [...first rows...]}.
    diff = models.JSONField(_("thay đổi so với phiên bản trước"), default=dict, blank=True)
    # ``Round.results_revision`` when this version was computed: a different value now means something the
    # ranking is computed from has changed since (leaderboards.selectors.ranking_freshness).
    inputs_revision = models.PositiveIntegerField(_("phiên bản dữ liệu đầu vào"), default=0)
    # Set by the approval workflow (judging.services.approval); shown on the public list and in exports.
    approved_at = models.DateTimeField(_("phê duyệt lúc"), null=True, blank=True)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+", verbose_name=_("người phê duyệt"))
    published_at = models.DateTimeField(_("công bố lúc"), null=True, blank=True)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+", verbose_name=_("người công bố"))
    ended_at = models.DateTimeField(_("thu hồi / thay thế lúc"), null=True, blank=True)
    public_notice = models.TextField(_("thông báo công khai"), blank=True,
                                     help_text=_("Hiện trên trang kết quả khi kết quả bị thu hồi hoặc được "
                                                 "thay thế."))

    class Meta:
        verbose_name = pgettext_lazy("verbose_name", "kết quả xếp hạng đợt thi")
        verbose_name_plural = pgettext_lazy("verbose_name_plural", "kết quả xếp hạng đợt thi")
        ordering = ["round", "-version"]
        constraints = [models.UniqueConstraint(fields=["round", "version"], name="round_ranking_version_unique")]

    def __str__(self) -> str:
        return f"{self.round} — v{self.version} ({self.get_status_display()})"


class RankingEntry(models.Model):
    """One ranked person (their counted attempt) in one ranking version.

    ``rank`` is standard competition ranking (1, 1, 3) over the tie-break chain; ``position`` is the
    deterministic listing order (ties listed by attempt id)."""

    tenant_path = "ranking__round__contest__organisation"

    # A ranking inserts up to millions of rows in one statement: per-row foreign-key triggers and single-column
    # indexes would cost more than the ranking itself. The rows are derived from existing attempts by that
    # statement, deleted with their ranking (ORM cascade), and every lookup goes through the composite
    # (ranking, …) constraints/indexes below — so only ``ranking`` keeps a database constraint.
    ranking = models.ForeignKey(RoundRanking, on_delete=models.CASCADE, related_name="entries", db_index=False)
    attempt = models.ForeignKey("contests.Attempt", on_delete=models.CASCADE, related_name="+",
                                db_constraint=False, db_index=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+",
                             db_constraint=False, db_index=False)
    unit = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+", db_constraint=False,
                             db_index=False)
    position = models.PositiveIntegerField(_("thứ tự"))
    rank = models.PositiveIntegerField(_("hạng"))
    score = models.DecimalField(_("điểm"), max_digits=9, decimal_places=3)
    correct_count = models.PositiveSmallIntegerField(_("số câu đúng"), null=True)
    prediction = models.PositiveIntegerField(_("dự đoán"), null=True)
    prediction_distance = models.BigIntegerField(_("chênh lệch dự đoán"), null=True)
    duration_ms = models.BigIntegerField(_("thời gian làm bài (ms)"))
    submitted_at = models.DateTimeField(_("nộp bài lúc"))
    prize_eligible = models.BooleanField(_("đủ điều kiện nhận giải"), default=True)
    is_winner = models.BooleanField(_("đoạt giải"), default=False)
    prize = models.CharField(_("giải"), max_length=16, blank=True, choices=PrizeTier.choices)

    class Meta:
        verbose_name = pgettext_lazy("verbose_name", "thứ hạng")
        verbose_name_plural = pgettext_lazy("verbose_name_plural", "thứ hạng")
        ordering = ["ranking", "position"]
        constraints = [
            models.UniqueConstraint(fields=["ranking", "position"], name="ranking_entry_position_unique"),
            models.UniqueConstraint(fields=["ranking", "user"], name="ranking_entry_once_per_person"),
        ]
        indexes = [models.Index(fields=["ranking", "unit"], name="ranking_entry_unit_idx")]

    def __str__(self) -> str:
        return f"{self.rank}. #{self.attempt_id}"


class DisqualificationScope(models.TextChoices):
    ATTEMPT = "attempt", _("Một lượt thi")
    PERSON = "person", _("Thí sinh (cả cuộc thi)")


class Disqualification(models.Model):
    """A judge's or organiser's decision to remove an attempt (or a person, for the whole contest) from
    every board. Reversible: ``revoked_at`` set = no longer in force. ``previous_statuses`` remembers each
    affected attempt's status so that a reversal restores it exactly."""

    tenant_path = "contest__organisation"

    scope = models.CharField(_("phạm vi"), max_length=8, choices=DisqualificationScope.choices)
    contest = models.ForeignKey("contests.Contest", on_delete=models.CASCADE, related_name="+",
                                verbose_name=_("cuộc thi"))
    registration = models.ForeignKey("contests.Registration", on_delete=models.CASCADE, related_name="+",
                                     verbose_name=_("thí sinh"))
    attempt = models.ForeignKey("contests.Attempt", null=True, blank=True, on_delete=models.CASCADE,
                                related_name="+", verbose_name=_("lượt thi"))
    reason = models.TextField(_("lý do"))
    previous_statuses = models.JSONField(_("trạng thái trước khi loại"), default=dict, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("người quyết định"))
    created_at = models.DateTimeField(_("lúc"))
    revoked_at = models.DateTimeField(_("huỷ lúc"), null=True, blank=True)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("người huỷ"))
    revoke_reason = models.TextField(_("lý do huỷ"), blank=True)

    class Meta:
        verbose_name = pgettext_lazy("verbose_name", "quyết định loại")
        verbose_name_plural = pgettext_lazy("verbose_name_plural", "quyết định loại")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(scope="attempt", attempt__isnull=False) | Q(scope="person", attempt__isnull=True)),
                name="disqualification_scope_matches_target"),
            # At most one decision in force per attempt, and per person in a contest.
            models.UniqueConstraint(fields=["attempt"], condition=Q(revoked_at__isnull=True, scope="attempt"),
                                    name="disqualification_attempt_active_once"),
            models.UniqueConstraint(fields=["registration"],
                                    condition=Q(revoked_at__isnull=True, scope="person"),
                                    name="disqualification_person_active_once"),
        ]

    def __str__(self) -> str:
        return f"{self.get_scope_display()} — {self.registration_id}/{self.attempt_id or '*'}"

    @property
    def in_force(self) -> bool:
        return self.revoked_at is None


class ContestAggregate(models.TextChoices):
    SUM = "sum", _("Tổng các đợt thi")
    BEST = "best", _("Đợt thi tốt nhất")


class ContestLeaderboardSettings(models.Model):
    """How a contest-wide ranking combines the counted round results (absent row = sum of rounds)."""

    tenant_path = "contest__organisation"

    contest = models.OneToOneField("contests.Contest", on_delete=models.CASCADE, related_name="leaderboard_settings",
                                   verbose_name=_("cuộc thi"))
    aggregate = models.CharField(_("cách tính xếp hạng toàn cuộc thi"), max_length=4,
                                 choices=ContestAggregate.choices, default=ContestAggregate.SUM)

    class Meta:
        verbose_name = pgettext_lazy("verbose_name", "cài đặt xếp hạng cuộc thi")
        verbose_name_plural = pgettext_lazy("verbose_name_plural", "cài đặt xếp hạng cuộc thi")

    def __str__(self) -> str:
        return f"{self.contest}: {self.get_aggregate_display()}"


class UnitPopulation(models.Model):
    """How many people a unit counts for one contest's participation rate (entrants / population), set by
    the contest's organisers: a ward's residents, an agency's staff, a school's pupils — whom the contest
    targets. Without a row the unit's own ``Organisation.registered_population`` is used."""

    tenant_path = "contest__organisation"

    contest = models.ForeignKey("contests.Contest", on_delete=models.CASCADE, related_name="unit_populations",
                                verbose_name=_("cuộc thi"))
    unit = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+", verbose_name=_("đơn vị"))
    population = models.PositiveIntegerField(_("số người của đơn vị"))

    class Meta:
        verbose_name = pgettext_lazy("verbose_name", "số người của đơn vị")
        verbose_name_plural = pgettext_lazy("verbose_name_plural", "số người của đơn vị")
        constraints = [models.UniqueConstraint(fields=["contest", "unit"], name="unit_population_once")]

    def __str__(self) -> str:
        return f"{self.contest_id}:{self.unit_id}={self.population}"
