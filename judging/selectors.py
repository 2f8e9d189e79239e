"""Read side of judging: grading queues (anonymous), grading progress, what the approval page shows (the ranking
with prizes and ties, disqualifications, flags, the changes in words, whether it may be proposed), the
published list (masked) and its history."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import Role
from accounts.tenancy import organisation_ids_for, scope_for
from contest_engine.numbers import format_count, format_score
from contests.models import Registration, Round
from exports.masking import mask_digits
from judging.models import EssayAssignment, EssayGrade, EssayStatus
from judging.services.essays import essay_answers_unassigned
from leaderboards.models import (
    CollectivePrize,
    Disqualification,
    DisqualificationScope,
    PrizeTier,
    PrizeTieRule,
    RankingEntry,
    RoundRanking,
)
from leaderboards.selectors import prize_line_ties, ranking_freshness, ranking_latest, unit_stats
from leaderboards.services.ranking import ranking_current

# --------------------------------------------------------------------------------------------------
# Essays: what is left to grade
# --------------------------------------------------------------------------------------------------


def essay_unassigned_count(*, round: Round) -> int:
    return essay_answers_unassigned(round_ids=[round.pk]).count()


def essay_grading_complete(*, round: Round) -> bool:
    """True when every essay answer of the round's finished attempts has a final mark in its current grading
    cycle (a round without essays is complete)."""
    if EssayAssignment.objects.filter(round=round).exclude(status=EssayStatus.FINAL).exists():
        return False
    return essay_unassigned_count(round=round) == 0


def essays_pending(*, round: Round) -> int:
    """Essays still without a final mark of their current cycle (queued, second or third grade, re-grade)."""
    return (EssayAssignment.objects.filter(round=round).exclude(status=EssayStatus.FINAL).count()
            + essay_unassigned_count(round=round))


def rounds_with_open_grading(round_ids: list[int]) -> set[int]:
    """Rounds among ``round_ids`` whose grading is open: an essay without its final mark. Registered with
    contests.blind_grading: while it is open the round's judges are blinded everywhere."""
    open_ = set(EssayAssignment.objects.filter(round_id__in=round_ids).exclude(status=EssayStatus.FINAL)
                .values_list("round_id", flat=True).distinct())
    rest = [pk for pk in round_ids if pk not in open_]
    if rest:
        open_ |= set(essay_answers_unassigned(round_ids=rest).values_list("attempt__round_id", flat=True)
                     .distinct())
    return open_


def _graded_in_cycle(grader: Any) -> Exists:
    return Exists(EssayGrade.objects.filter(assignment=OuterRef("pk"), cycle=OuterRef("cycle"), grader=grader))


def essays_for_grader(*, round: Round, grader: Any) -> QuerySet[EssayAssignment]:
    """Assignments ``grader`` may grade now: not final, not graded by them in the current cycle, and either
    fewer than two grades in that cycle or waiting for a third. Ordered by code (random, so not by
    contestant)."""
    return (EssayAssignment.objects.filter(round=round).exclude(status=EssayStatus.FINAL)
            .annotate(n=Count("grades", filter=Q(grades__cycle=F("cycle"))), mine=_graded_in_cycle(grader))
            .filter(mine=False)
            .filter(Q(n__lt=2) | Q(status=EssayStatus.NEEDS_THIRD, n=2))
            .order_by("code"))


def essays_graded_by(*, round: Round, grader: Any) -> QuerySet[EssayAssignment]:
    """Assignments ``grader`` has graded in their current cycle."""
    return (EssayAssignment.objects.filter(round=round).annotate(mine=_graded_in_cycle(grader)).filter(mine=True)
            .order_by("code"))


@dataclass(frozen=True)
class GraderProgress:
    done: int  # graded by this judge (current cycles)
    left: int  # in their queue now

    @property
    def total(self) -> int:
        return self.done + self.left


def grader_progress(*, round: Round, grader: Any) -> GraderProgress:
    return GraderProgress(done=essays_graded_by(round=round, grader=grader).count(),
                          left=essays_for_grader(round=round, grader=grader).count())


@dataclass(frozen=True)
class Neighbours:
    previous: int | None  # assignment ids, for the grading page's links
    next: int | None
    skip: int | None  # the next essay still to grade (wrapping round), other than this one


def essay_neighbours(*, assignment: EssayAssignment, grader: Any) -> Neighbours:
    """Previous / next among the essays this judge can open (to grade or graded), by code; ``skip``: the next
    one still to grade after this one, wrapping to the first."""
    queue = essays_for_grader(round=assignment.round, grader=grader)
    mine = essays_graded_by(round=assignment.round, grader=grader)
    code = assignment.code
    codes = {a.pk: a.code for a in [*queue.only("id", "code")[:2000], *mine.only("id", "code")[:2000]]}
    ordered = sorted(codes.items(), key=lambda item: item[1])
    before = [pk for pk, c in ordered if c < code]
    after = [pk for pk, c in ordered if c > code]
    later = queue.filter(code__gt=code).values_list("pk", flat=True).first()
    if later is None:
        later = queue.exclude(pk=assignment.pk).values_list("pk", flat=True).first()
    return Neighbours(previous=before[-1] if before else None, next=after[0] if after else None, skip=later)


def essay_next_to_grade(*, assignment: EssayAssignment, grader: Any) -> int | None:
    """After saving a grade: the next essay in the queue after this one's code, else the first left."""
    queue = essays_for_grader(round=assignment.round, grader=grader).exclude(pk=assignment.pk)
    return (queue.filter(code__gt=assignment.code).values_list("pk", flat=True).first()
            or queue.values_list("pk", flat=True).first())


@dataclass(frozen=True)
class EssayProgress:
    total: int
    awaiting: int  # fewer than two grades in the current cycle
    needs_third: int
    final: int
    regrading: int  # in a re-grade cycle (included in awaiting / needs_third)
    unassigned: int  # finished essays not yet in the queue (normally 0: they enter it on submit)

    @property
    def pending(self) -> int:
        return self.awaiting + self.needs_third + self.unassigned


def essay_progress(*, round: Round) -> EssayProgress:
    rows = (EssayAssignment.objects.filter(round=round).values("status")
            .annotate(n=Count("id"), regrading=Count("id", filter=Q(cycle__gt=1) & ~Q(status=EssayStatus.FINAL))))
    counts = {row["status"]: row["n"] for row in rows}
    regrading = sum(row["regrading"] for row in rows)
    unassigned = essay_unassigned_count(round=round)
    total = sum(counts.values()) + unassigned
    return EssayProgress(total=total, awaiting=counts.get(EssayStatus.AWAITING, 0),
                         needs_third=counts.get(EssayStatus.NEEDS_THIRD, 0), final=counts.get(EssayStatus.FINAL, 0),
                         regrading=regrading, unassigned=unassigned)


# --------------------------------------------------------------------------------------------------
# Judges' home page
# --------------------------------------------------------------------------------------------------


@dataclass
class StaffRound:
    round: Round
    is_judge: bool
    my_queue: int = 0
    progress: EssayProgress | None = None
    ranking: Any = None


def staff_rounds(*, user: Any, limit: int = 100) -> list[StaffRound]:
    """The rounds a judge or organiser works on, newest first: closed or open rounds of their organisations,
    with the essays left in this person's queue and the current ranking's status."""
    rounds = list(scope_for(Round.objects.select_related("contest"), user, [Role.JUDGE, Role.ORGANISER])
                  .order_by("-closes_at", "-id")[:limit])
    judge_orgs = organisation_ids_for(user, [Role.JUDGE])
    with_essays = set(EssayAssignment.objects.filter(round__in=rounds).values_list("round_id", flat=True).distinct())
    result = []
    for round in rounds:
        item = StaffRound(round=round, is_judge=user.is_superuser or round.contest.organisation_id in judge_orgs,
                          ranking=ranking_current(round=round))
        if round.pk in with_essays:
            item.progress = essay_progress(round=round)
            if item.is_judge:
                item.my_queue = essays_for_grader(round=round, grader=user).count()
        result.append(item)
    return result


# --------------------------------------------------------------------------------------------------
# The approval page
# --------------------------------------------------------------------------------------------------


@dataclass
class Readiness:
    """Whether the current version may be proposed / approved / published, and if not, why (shown next to
    the disabled buttons)."""

    pending_essays: int
    changes_since: int  # recorded changes of the ranking's inputs since it was computed
    mismatched: int = 0
    blockers: list[str] = field(default_factory=list)

    @property
    def stale(self) -> bool:
        return self.changes_since > 0 or self.mismatched > 0

    @property
    def ok(self) -> bool:
        return not self.blockers


def ranking_readiness(*, ranking: Any, deep: bool = False) -> Readiness:
    round = ranking.round
    freshness = ranking_freshness(ranking=ranking, deep=deep)
    pending = essays_pending(round=round)
    readiness = Readiness(pending_essays=pending, changes_since=freshness.changes, mismatched=freshness.mismatched)
    if pending:
        readiness.blockers.append(ngettext(
            "Còn %(n)s bài tự luận chưa có điểm cuối cùng: kết quả phụ thuộc vào điểm chấm nên chưa thể đề xuất.",
            "Còn %(n)s bài tự luận chưa có điểm cuối cùng: kết quả phụ thuộc vào điểm chấm nên chưa thể đề xuất.",
            pending) % {"n": format_count(pending)})
    if any(not tie.resolved for tie in prize_line_ties(ranking=ranking)):
        readiness.blockers.append(_(
            "Có thí sinh đồng hạng ở ranh giới giải mà Ban tổ chức chưa quyết định (xem bên dưới)."))
    if readiness.stale:
        readiness.blockers.append(_(
            "Phiên bản %(v)s được tính trước khi có thay đổi về dữ liệu (điểm tự luận, quyết định loại, chấm lại "
            "hoặc sửa đáp án): cần tính lại kết quả từ điểm cuối cùng.") % {"v": ranking.version})
    return readiness


@dataclass
class PreviewRow:
    position: int
    rank: int
    name: str
    unit: str
    score: Any
    correct_count: int | None
    duration_ms: int
    prize: str
    is_winner: bool
    prize_eligible: bool
    tied: bool  # shares its rank with a neighbour


def ranking_preview(*, ranking: Any, top: int = 30) -> list[PreviewRow]:
    """The first rows of a ranking with names, the prize of each winner and ties marked: every winner and
    at least ``top`` rows (capped at 500)."""
    limit = min(500, max(top, (ranking.prize_places or 0) + 5))
    entries = list(RankingEntry.objects.filter(ranking=ranking).order_by("position").select_related("unit")
                   [:limit + 1])
    names = dict(Registration.objects.filter(contest_id=ranking.round.contest_id,
                                             user_id__in=[e.user_id for e in entries])
                 .values_list("user_id", "full_name"))
    labels = dict(PrizeTier.choices)
    rows = []
    for index, entry in enumerate(entries[:limit]):
        neighbours = [entries[i].rank for i in (index - 1, index + 1) if 0 <= i < len(entries)]
        rows.append(PreviewRow(
            position=entry.position, rank=entry.rank, name=names.get(entry.user_id, ""), unit=entry.unit.name,
            score=entry.score, correct_count=entry.correct_count, duration_ms=entry.duration_ms,
            prize=str(labels.get(entry.prize, _("Đoạt giải") if entry.is_winner else "")), is_winner=entry.is_winner,
            prize_eligible=entry.prize_eligible, tied=entry.rank in neighbours))
    return rows


@dataclass(frozen=True)
class PrizeTieNotice:
    text: str
    resolved: bool


def prize_boundary_ties(*, ranking: Any) -> list[PrizeTieNotice]:
    """What the organiser is told about prize lines that fall inside a tie the tie-break chain cannot break
    (``leaderboards.selectors.prize_line_ties``): each undecided line, with how many are tied for how many
    places, and how each decided one was settled."""
    labels = dict(PrizeTier.choices)
    rules = dict(PrizeTieRule.choices)
    notices = []
    for tie in prize_line_ties(ranking=ranking):
        values = {"prize": labels.get(tie.tier, _("Danh sách đoạt giải")), "rank": format_count(tie.rank),
                  "tied": format_count(tie.tied), "inside": format_count(tie.inside),
                  "extended": format_count(tie.extended), "rule": rules.get(tie.rule, "")}
        if tie.extended:
            text = _("%(prize)s: trao cho cả %(tied)s thí sinh đồng hạng %(rank)s (thêm %(extended)s giải so với "
                     "cơ cấu giải).") % values
        elif tie.resolved:
            text = _("%(prize)s: %(tied)s thí sinh đồng hạng %(rank)s cho %(inside)s suất, phân định theo tiêu chí "
                     "đã chọn (%(rule)s).") % values
        elif tie.rule and tie.rule != PrizeTieRule.EXTEND:
            text = _("%(prize)s: %(tied)s thí sinh đồng hạng %(rank)s cho %(inside)s suất, và tiêu chí đã chọn "
                     "(%(rule)s) cũng không phân định được. Ban tổ chức cần chọn cách khác.") % values
        else:
            text = _("%(prize)s: %(tied)s thí sinh đồng hạng %(rank)s nhưng chỉ còn %(inside)s suất; các tiêu chí "
                     "xếp hạng phụ không phân định được. Ban tổ chức cần chọn: trao giải cho cả %(tied)s người, "
                     "hoặc xét thêm một tiêu chí.") % values
        notices.append(PrizeTieNotice(text=text, resolved=tie.resolved))
    return notices


def ranking_disqualifications(*, round: Round) -> list[Any]:
    """Decisions in force that take people or attempts of this round out of the ranking."""
    return list(Disqualification.objects.filter(contest_id=round.contest_id, revoked_at__isnull=True)
                .filter(Q(scope=DisqualificationScope.PERSON) | Q(attempt__round=round))
                .select_related("registration", "attempt", "created_by").order_by("-created_at")[:200])


def _names(contest_id: int, user_ids: Iterable[int]) -> dict[int, str]:
    return dict(Registration.objects.filter(contest_id=contest_id, user_id__in=set(user_ids))
                .values_list("user_id", "full_name"))


def prizes_text(prizes: dict[str, int] | None, prize_places: int = 0) -> str:
    """"1 Giải Nhất, 3 Giải Nhì, 10 Giải Ba, 15 Giải Khuyến khích" (or "không có giải")."""
    counts = [(int((prizes or {}).get(tier, 0)), label) for tier, label in PrizeTier.choices]
    parts = [f"{format_count(n)} {label}" for n, label in counts if n]
    if not parts and prize_places:
        parts = [_("%(n)s người đoạt giải") % {"n": format_count(prize_places)}]
    return ", ".join(parts) if parts else _("không có giải")


def ranking_changes_in_words(*, ranking: Any, limit: int = 20) -> list[str]:
    """What changed against the previous version, as sentences for the organiser: how many people moved,
    the first ``limit`` of them by name (rank and score before → after), who entered or left the list of
    winners, a change of prizes."""
    diff = ranking.diff or {}
    previous_version = diff.get("previous_version")
    if previous_version is None:
        return []
    previous = RoundRanking.objects.filter(round_id=ranking.round_id, version=previous_version).first()
    lines = []
    changed = int(diff.get("changed", 0))
    if changed == 0:
        lines.append(_("So với phiên bản %(v)s: không thí sinh nào thay đổi hạng hay điểm.") % {"v": previous_version})
    else:
        lines.append(ngettext("So với phiên bản %(v)s: %(n)s thí sinh thay đổi hạng, điểm hoặc lượt thi được tính.",
                              "So với phiên bản %(v)s: %(n)s thí sinh thay đổi hạng, điểm hoặc lượt thi được tính.",
                              changed) % {"v": previous_version, "n": format_count(changed)})
    rows = diff.get("rows", [])[:limit]
    names = _names(ranking.round.contest_id, [r["user_id"] for r in rows])
    for row in rows:
        name = names.get(row["user_id"], _("(không rõ tên)"))
        if row.get("old_rank") is None:
            lines.append(_("%(name)s: mới vào danh sách — hạng %(rank)s, %(score)s điểm.")
                         % {"name": name, "rank": row["new_rank"], "score": format_score(row["new_score"])})
        elif row.get("new_rank") is None:
            lines.append(_("%(name)s: không còn trong danh sách (trước: hạng %(rank)s, %(score)s điểm) — bị loại "
                           "hoặc không còn lượt thi được tính.")
                         % {"name": name, "rank": row["old_rank"], "score": format_score(row["old_score"])})
        else:
            parts = []
            if row["old_rank"] != row["new_rank"]:
                parts.append(_("hạng %(old)s → %(new)s") % {"old": row["old_rank"], "new": row["new_rank"]})
            if row.get("old_score") != row.get("new_score"):
                parts.append(_("điểm %(old)s → %(new)s") % {"old": format_score(row["old_score"]),
                                                             "new": format_score(row["new_score"])})
            if row.get("old_attempt_id") != row.get("new_attempt_id"):
                parts.append(_("lượt thi được tính thay đổi"))
            lines.append(f"{name}: {', '.join(parts)}.")
    if changed > len(rows):
        lines.append(_("… và %(n)s thay đổi khác (xem bảng kết quả đầy đủ).")
                     % {"n": format_count(changed - len(rows))})
    if previous is not None:
        labels = dict(PrizeTier.choices)

        def winners(version: Any) -> dict[int, str]:
            return dict(RankingEntry.objects.filter(ranking=version, is_winner=True).values_list("user_id", "prize"))

        old, new = winners(previous), winners(ranking)
        entered, left = set(new) - set(old), set(old) - set(new)
        moved = {u for u in set(new) & set(old) if new[u] != old[u]}
        who = _names(ranking.round.contest_id, entered | left | moved)
        if entered:
            lines.append(_("Thêm vào danh sách đoạt giải: %(names)s.")
                         % {"names": ", ".join(sorted(who.get(u, str(u)) for u in entered))})
        if left:
            lines.append(_("Không còn đoạt giải: %(names)s.")
                         % {"names": ", ".join(sorted(who.get(u, str(u)) for u in left))})
        for user_id in sorted(moved, key=lambda u: who.get(u, "")):
            lines.append(_("%(name)s: %(old)s → %(new)s.") % {
                "name": who.get(user_id, str(user_id)), "old": labels.get(old[user_id], _("Đoạt giải")),
                "new": labels.get(new[user_id], _("Đoạt giải"))})
        before = prizes_text(previous.prizes, previous.prize_places)
        after = prizes_text(ranking.prizes, ranking.prize_places)
        if before != after:
            lines.append(_("Cơ cấu giải: trước %(before)s; nay %(after)s.") % {"before": before, "after": after})
    if ranking.revision_reason:
        lines.append(_("Lý do tính lại: %(reason)s") % {"reason": ranking.revision_reason})
    return lines


@dataclass(frozen=True)
class CollectiveResult:
    kind: str
    label: str
    count: int
    units: list[Any]  # leaderboards.selectors.UnitStats, best first


def collective_results(*, ranking: Any) -> list[CollectiveResult]:
    """The units that win each collective prize of the ranking ({kind: number of units})."""
    wanted = {kind: int(n) for kind, n in (ranking.collective_prizes or {}).items() if int(n or 0) > 0}
    results = []
    for kind, label in CollectivePrize.choices:
        if kind not in wanted:
            continue
        stats = unit_stats(contest=ranking.round.contest, round=ranking.round, order=kind)
        if kind == CollectivePrize.RATE:
            stats = [s for s in stats if s.rate is not None]
        results.append(CollectiveResult(kind=kind, label=str(label), count=wanted[kind], units=stats[:wanted[kind]]))
    return results


# --------------------------------------------------------------------------------------------------
# The published list
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PublishedRow:
    position: int
    rank: int
    full_name: str
    birth_year: int | None
    unit: str
    phone: str
    national_id: str
    score: Any
    correct_count: int | None
    duration_ms: int
    is_winner: bool
    prize: str


def ranking_published(*, round: Round) -> Any:
    return ranking_latest(round=round, published_only=True)


def publication_history(*, round: Round) -> list[Any]:
    """Every version that was ever published (published, withdrawn, replaced), newest first."""
    return list(RoundRanking.objects.filter(round=round, published_at__isnull=False)
                .select_related("approved_by", "published_by").order_by("-version"))


def published_rows(*, ranking: Any, after: int = 0, limit: int = 100) -> Iterator[PublishedRow]:
    """A page of the published list (keyset on position), phone and ID numbers masked (last 3 digits)."""
    labels = dict(PrizeTier.choices)
    rows = (RankingEntry.objects.filter(ranking=ranking, position__gt=after).order_by("position")
            .values_list("position", "rank", "attempt__registration__full_name", "attempt__registration__date_of_birth",
                         "unit__name", "user__phone", "attempt__registration__national_id", "score", "correct_count",
                         "duration_ms", "is_winner", "prize")[:limit])
    for position, rank, name, dob, unit, phone, national_id, score, correct, duration_ms, winner, prize in rows:
        label = str(labels[prize]) if prize in labels else (_("Đoạt giải") if winner else "")
        yield PublishedRow(position, rank, name or "", dob.year if dob else None, unit or "", mask_digits(phone),
                           mask_digits(national_id), score, correct, duration_ms, winner, label)


def winners(*, ranking: Any, limit: int = 5000) -> list[Any]:
    """Winners of a ranking in listing order, with names (for the certificates of staff)."""
    return list(RankingEntry.objects.filter(ranking=ranking, is_winner=True).order_by("position")
                .select_related("unit", "attempt__registration")[:limit])
