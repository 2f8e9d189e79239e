"""Read side of exports: row generators over keyset-paginated queries (``id > last_id`` batches, never
OFFSET), so memory stays flat whatever the size of the round.

Each generator yields plain tuples in the column order of ``exports.workbook``; nothing here knows about
files. Personal data is masked here (``full_personal_data=False``) so no writer can leak it by mistake.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import (
    Count,
    DateTimeField,
    DurationField,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    QuerySet,
    TextField,
)
from django.db.models.functions import Cast, Coalesce
from django.utils.html import strip_tags

from contest_engine.numbers import format_number
from contests.models import FINISHED_STATUSES, Answer, Attempt, Contest, Registration, Round
from contests.selectors import round_prediction_target
from contests.statistics import TestStatistics, round_statistics
from exports.masking import mask_digits
from exports.writers import to_vietnam_naive
from leaderboards.models import RankingEntry, RankingStatus
from leaderboards.selectors import contest_ranking, ranking_freshness, ranking_latest
from questionbank.models import Question, QuestionOption

DEFAULT_BATCH = 5000
VN_TZ_NAME = "Asia/Ho_Chi_Minh"


def _postgres() -> bool:
    return connection.vendor == "postgresql"


def _local_time(field: str) -> Any:
    """``field`` as Vietnam wall-clock time. On PostgreSQL the database converts (``AT TIME ZONE``) and the
    driver loads a naive timestamp in C — Django's Python-level loader for ``timestamptz`` is a measurable
    cost at a million rows. Elsewhere the aware value is returned (the writer converts it)."""
    if _postgres():
        return Func(F(field), template=f"(%(expressions)s AT TIME ZONE '{VN_TZ_NAME}')", output_field=DateTimeField())
    return F(field)


def keyset_batches(query: Callable[[Any], list[tuple]], next_key: Callable[[list[tuple]], Any],
                   start: Any) -> Iterator[list[tuple]]:
    """Batches ``query(last_key)`` until an empty one, ``last_key = next_key(batch)`` — keyset pagination.

    Outside a transaction on PostgreSQL (the export job, the command) the next batch is fetched by a helper
    thread with its own connection while the caller writes the current one: the database works on the other
    core and the driver waits for it without the GIL. Inside a transaction (tests, callers holding locks) a
    second connection would not see uncommitted rows, so batches are fetched in line.
    """
    if not (_postgres() and not connection.in_atomic_block and getattr(settings, "EXPORTS_PREFETCH", True)):
        last = start
        while True:
            batch = query(last)
            if not batch:
                return
            yield batch
            last = next_key(batch)
    yield from _prefetched(query, next_key, start)


_DONE = object()


def _prefetched(query: Callable[[Any], list[tuple]], next_key: Callable[[list[tuple]], Any],
                start: Any) -> Iterator[list[tuple]]:
    import queue
    import threading

    from django.db import connections

    batches: queue.Queue = queue.Queue(maxsize=2)
    stop = threading.Event()

    def put(item: Any) -> bool:
        while not stop.is_set():
            try:
                batches.put(item, timeout=0.5)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            last = start
            while not stop.is_set():
                batch = query(last)
                if not batch:
                    break
                if not put(batch):
                    return
                last = next_key(batch)
            put(_DONE)
        except BaseException as exc:  # handed to the consumer, raised there
            put(exc)
        finally:
            connections.close_all()  # this thread's connections only (connections are per thread)

    thread = threading.Thread(target=work, name="export-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            item = batches.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join(timeout=30)


def _fetch(queryset: QuerySet) -> list[tuple]:
    """Rows of a ``values_list`` queryset. On PostgreSQL the ORM's SQL runs on a plain cursor (the driver's
    types are already what the writer needs; Django's per-row converters are skipped)."""
    if not _postgres():
        return list(queryset)
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


@dataclass
class ExportTarget:
    """What is exported: one round, or every round of a contest. ``published``: the publication export —
    only the published ranking version of each round (rounds without one are left out), no answers."""

    contest: Contest
    rounds: list[Round]
    round: Round | None = None  # set when a single round is exported
    published: bool = False

    @property
    def organisation_id(self) -> int:
        return self.contest.organisation_id

    @property
    def round_ids(self) -> list[int]:
        return [r.pk for r in self.rounds]

    @property
    def label(self) -> str:
        return f"{self.contest.title} — {self.round.name}" if self.round else self.contest.title


def export_target(*, round_id: int | None = None, contest_id: int | None = None,
                  published: bool = False) -> ExportTarget:
    """Raises ``Round.DoesNotExist``/``Contest.DoesNotExist``. Exactly one of the ids must be given."""
    if (round_id is None) == (contest_id is None):
        raise ValueError("give exactly one of round_id or contest_id")
    if round_id is not None:
        round = Round.objects.select_related("contest").get(pk=round_id)
        return ExportTarget(contest=round.contest, rounds=[round], round=round, published=published)
    contest = Contest.objects.get(pk=contest_id)
    rounds = list(contest.rounds.order_by("position", "opens_at", "id"))
    for r in rounds:
        r.contest = contest
    return ExportTarget(contest=contest, rounds=rounds, published=published)


@dataclass(frozen=True)
class RankingSource:
    """Which ranking a round's rows come from: a stored version (with its status) or, before leaderboards
    stored one, a provisional ranking computed here; in a publication export, the published version only."""

    round: Round
    ranking: Any  # leaderboards.RoundRanking or None
    provisional: bool

    @property
    def included(self) -> bool:
        return self.ranking is not None or self.provisional


def ranking_source(round: Round, *, published: bool = False) -> RankingSource:
    from django.apps import apps

    if not apps.is_installed("leaderboards"):
        return RankingSource(round, None, provisional=not published)
    ranking = ranking_latest(round=round, published_only=published)
    if ranking is not None:
        ranking.round = round
    return RankingSource(round, ranking, provisional=ranking is None and not published)


def ranking_sources(*, target: ExportTarget) -> list[RankingSource]:
    return [ranking_source(r, published=target.published) for r in target.rounds]


def ranking_source_text(source: RankingSource) -> str:
    """What the information sheet says about a round's ranking: version, status, when published / approved,
    whether it is out of date."""
    if source.ranking is None:
        if source.provisional:
            return ("Chưa có kết quả chính thức: xếp hạng tạm tính từ các lượt thi đã nộp, "
                    "không dùng để công bố")
        return "Chưa công bố: không có trong bản này"
    ranking = source.ranking
    text = f"Phiên bản {ranking.version} — {ranking.get_status_display()}"
    if ranking.status == RankingStatus.PUBLISHED and ranking.published_at:
        text += f", công bố ngày {to_vietnam(ranking.published_at):%d/%m/%Y}"
    if ranking.approved_by_id and ranking.approved_at:
        text += f", phê duyệt ngày {to_vietnam(ranking.approved_at):%d/%m/%Y} ({ranking.approved_by.get_full_name()})"
    if ranking.status in (RankingStatus.DRAFT, RankingStatus.PROPOSED):
        text += " — chưa được phê duyệt, không dùng để công bố"
    if ranking_freshness(ranking=ranking).stale:
        text += " — dữ liệu đã thay đổi sau khi tính (cần tính lại)"
    return text


def to_vietnam(moment: dt.datetime) -> dt.datetime:
    return to_vietnam_naive(moment)


# --------------------------------------------------------------------------------------------------
# Counts (for progress)
# --------------------------------------------------------------------------------------------------


def answers_count(*, target: ExportTarget) -> int:
    return Answer.objects.filter(attempt__round_id__in=target.round_ids).count()


def ranking_count(*, target: ExportTarget) -> int:
    total = 0
    for source in ranking_sources(target=target):
        entries = _entries_of(source)
        if entries is not None:
            total += entries.count()
        elif source.provisional:
            total += _finished(source.round).count()
    return total


# --------------------------------------------------------------------------------------------------
# Ranking
# --------------------------------------------------------------------------------------------------


@dataclass(slots=True)
class RankingRow:
    """One line of the official ranking. ``unit_id`` is kept for the per-unit sheet (not written)."""

    round_name: str
    rank: int
    full_name: str
    date_of_birth: dt.date | None
    unit_id: int | None
    unit_name: str
    phone: str
    national_id: str
    score: Decimal | None
    correct_count: int | None
    prediction: int | None
    prediction_distance: int | None
    duration_seconds: float | None
    submitted_at: dt.datetime | None
    attempt_id: int
    attempt_number: int | None
    registration_id: int | None
    status: str = ""
    is_winner: bool | None = None  # None: not decided (no published ranking: the ranking is provisional)
    prediction_target: int | None = None  # the target the distance was computed against
    result_state: str = ""  # whether this ranking is published, awaiting publication or provisional
    birth_year: int | None = None  # set (and date_of_birth cleared) on a masked row: the year alone


def _entries_of(source: RankingSource) -> Any:
    """The stored entries of a source's ranking version, or None (provisional or left out)."""
    if source.ranking is None:
        return None

    return RankingEntry.objects.filter(ranking=source.ranking)


RESULT_PUBLISHED = "Chính thức (đã công bố)"
RESULT_PROVISIONAL = "Tạm tính (chưa xếp hạng chính thức)"


def _result_state(ranking: Any) -> str:
    """Whether a ranking's prizes count: only once it is published (a winner was counted before)."""
    if ranking is None:
        return RESULT_PROVISIONAL
    if ranking.status == RankingStatus.PUBLISHED:
        return RESULT_PUBLISHED
    return f"Chưa công bố (phiên bản {ranking.version}: {ranking.get_status_display()})"


def _finished(round: Round):
    return Attempt.objects.filter(round=round, status__in=FINISHED_STATUSES)


def ranking_rows(*, target: ExportTarget, full_personal_data: bool, batch: int = DEFAULT_BATCH,
                 sources: list[RankingSource] | None = None) -> Iterator[RankingRow]:
    """The official ranking of each round in turn: the newest stored version (leaderboards), else a
    provisional one computed here from the finished attempts in the official tie-break order; in a
    publication export the published version only (a round without one has no rows)."""
    for source in sources if sources is not None else ranking_sources(target=target):
        round = source.round
        if source.ranking is None and not source.provisional:
            continue
        rows = (_stored_ranking_rows(round, source.ranking, batch) if source.ranking is not None
                else _provisional_ranking_rows(round, batch))
        for row in rows:
            if not full_personal_data:
                row = _masked(row)
            yield row


def _masked(row: RankingRow) -> RankingRow:
    from dataclasses import replace

    # Published lists show the name, unit and year of birth; phone and ID numbers keep their last 3 digits.
    dob = row.date_of_birth
    return replace(row, phone=mask_digits(row.phone), national_id=mask_digits(row.national_id),
                   date_of_birth=None, birth_year=dob.year if dob else None)


_PERSON_FIELDS = ("registration__full_name", "registration__date_of_birth", "unit_id", "unit__name", "user__phone",
                  "registration__national_id")


def _stored_ranking_rows(round: Round, ranking: Any, batch: int) -> Iterator[RankingRow]:
    """Keyset over ``position`` (unique per ranking: the deterministic listing order) of the stored entries.
    Prizes are given only when the ranking is published; before, the winner cells stay empty and every row
    says the ranking is not published yet."""
    entries = RankingEntry.objects.filter(ranking=ranking)
    published = ranking.status == RankingStatus.PUBLISHED
    state = _result_state(ranking)
    target = ranking.prediction_target_value
    fields = ("position", "rank", "score", "correct_count", "prediction", "prediction_distance", "duration_ms",
              "submitted_local", "attempt_id", "attempt__number", "attempt__registration_id", "attempt__status",
              "attempt__registration__full_name", "attempt__registration__date_of_birth", "unit_id", "unit__name",
              "user__phone", "attempt__registration__national_id", "is_winner")
    entries = entries.annotate(submitted_local=_local_time("submitted_at"))

    def query(last: int) -> list[tuple]:
        return _fetch(entries.filter(position__gt=last).order_by("position").values_list(*fields)[:batch])

    for chunk in keyset_batches(query, lambda chunk: chunk[-1][0], -1):
        for (_position, rank, score, correct, prediction, distance, duration_ms, submitted_at, attempt_id, number,
             registration_id, status, full_name, dob, unit_id, unit_name, phone, national_id, is_winner) in chunk:
            yield RankingRow(round.name, rank, full_name or "", dob, unit_id, unit_name or "", phone or "",
                             national_id or "", score, correct, prediction, distance,
                             duration_ms / 1000 if duration_ms is not None else None, submitted_at, attempt_id,
                             number, registration_id, status, is_winner if published else None, target, state)


def _provisional_ranking_rows(round: Round, batch: int) -> Iterator[RankingRow]:
    """Every finished attempt ranked by score, then the round's tie-break order, with standard
    competition ranking (1, 1, 3). Used only before leaderboards has stored the official ranking. Before the
    round's close the prediction target is not stored yet: the gap is computed against the target as it
    stands now (``contests.selectors.round_prediction_target``), and every row says the ranking is provisional."""
    target = round.prediction_target_value
    if target is None and round.settings.prediction_enabled:
        target = round_prediction_target(round=round)
    order_keys = round.settings.tie_break_order
    rows = []
    fields = ("id", "score", "correct_count", "prediction", "duration_ms", "submitted_at", "number",
              "registration_id", "status", *_PERSON_FIELDS)
    last_id = 0
    # Sorting needs the whole round; the tuples are small (about 200 bytes each), the file is still streamed.
    while True:
        chunk = list(_finished(round).filter(id__gt=last_id).order_by("id").values_list(*fields)[:batch])
        if not chunk:
            break
        rows.extend(chunk)
        last_id = chunk[-1][0]

    def distance(row: tuple) -> int | None:
        return abs(row[3] - target) if target is not None and row[3] is not None else None

    big = float("inf")

    def key(row: tuple) -> tuple:
        parts: list[Any] = []
        for name in order_keys:
            if name == "score":
                parts.append(-(row[1] if row[1] is not None else Decimal("-1e9")))
            elif name == "prediction":
                d = distance(row)
                parts.append(big if d is None else d)
            elif name == "duration":
                parts.append(big if row[4] is None else row[4])
            elif name == "submitted_at":
                parts.append(row[5].timestamp() if row[5] else big)
        return tuple(parts)

    rows.sort(key=lambda r: (key(r), r[0]))
    previous, rank = None, 0
    for position, row in enumerate(rows, start=1):
        k = key(row)
        if k != previous:
            rank, previous = position, k
        (pk, score, correct, prediction, duration_ms, submitted_at, number, registration_id, status,
         full_name, dob, unit_id, unit_name, phone, national_id) = row
        yield RankingRow(round.name, rank, full_name or "", dob, unit_id, unit_name or "", phone or "",
                         national_id or "", score, correct, prediction, distance(row),
                         duration_ms / 1000 if duration_ms is not None else None, submitted_at, pk, number,
                         registration_id, status, None, target, RESULT_PROVISIONAL)


def contest_ranking_rows(*, target: ExportTarget) -> Iterator[tuple]:
    """The contest-wide ranking (leaderboards.selectors.contest_ranking: counted round results totalled, or
    the best round, per the contest's setting): rank, name, unit, total score, total duration (s), rounds.
    One query for the whole list (its SQL ranks with a window; paging it would recompute per page), so
    memory grows with the number of people (~300 bytes each) — contest exports only."""
    from django.apps import apps

    if not apps.is_installed("leaderboards"):
        return

    for row in contest_ranking(contest=target.contest, limit=10**9, published_only=target.published):
        yield (row["rank"], row["name"], row["unit"], row["score"], row["duration_ms"] / 1000, row["rounds"])


# --------------------------------------------------------------------------------------------------
# Answers
# --------------------------------------------------------------------------------------------------

CHOICE_TYPES = frozenset({"single", "multiple", "truefalse"})
QUESTION_TYPE_LABELS = {
    "single": "Một đáp án", "multiple": "Nhiều đáp án", "truefalse": "Đúng/Sai", "numeric": "Số",
    "short": "Trả lời ngắn", "essay": "Tự luận",
}


def letter(index: int) -> str:
    """A, B, C… for the 0-based position of an option (27th and later: its number)."""
    return chr(65 + index) if index < 26 else str(index + 1)


@dataclass
class _OptionCache:
    """Per question, loaded once: its type, each option's bank letter (the bank's order) and plain text, and
    the options the key credits (fraction > 0)."""

    bank_letters: dict[int, dict[int, str]] = field(default_factory=dict)
    texts: dict[int, dict[int, str]] = field(default_factory=dict)
    correct: dict[int, list[int]] = field(default_factory=dict)
    types: dict[int, str] = field(default_factory=dict)

    def load(self, question_ids: set[int]) -> None:
        missing = question_ids - self.types.keys()
        if not missing:
            return
        for qid, qtype in Question.objects.filter(pk__in=missing).values_list("id", "type"):
            self.types[qid] = qtype
            self.bank_letters.setdefault(qid, {})
            self.texts.setdefault(qid, {})
            self.correct.setdefault(qid, [])
        position: dict[int, int] = {}
        for qid, oid, text, fraction in (QuestionOption.objects.filter(question_id__in=missing)
                                         .order_by("question_id", "position", "id")
                                         .values_list("question_id", "id", "text", "fraction")):
            n = position.get(qid, 0)
            position[qid] = n + 1
            self.bank_letters[qid][oid] = letter(n)
            self.texts[qid][oid] = strip_tags(text)
            if fraction is not None and fraction > 0:
                self.correct[qid].append(oid)


ANSWER_FIELDS = ("id", "attempt_id", "attempt__round_id", "attempt__registration_id", "attempt_question__position",
                 "attempt_question__question_id", "response_json", "is_correct", "points_f", "received_local",
                 "elapsed_s", "seen_order")


def _answers_queryset(target: ExportTarget) -> QuerySet:
    """Answers of the target's rounds with what the row needs computed by the database where it can: the
    response as JSON *text* (parsed once in Python — a JSONField is decoded twice, by the driver and by
    Django), points as a float and, on PostgreSQL, the seconds since the question was shown. Fewer
    timestamps and Decimals to convert is a measurable share of the time at a million rows."""
    qs = (Answer.objects.filter(attempt__round_id__in=target.round_ids)
          .annotate(response_json=Cast("response", TextField()), points_f=Cast("points_awarded", FloatField()),
                    received_local=_local_time("received_at"), seen_order=_seen_order()))
    since = Coalesce(F("attempt_question__shown_at"), F("attempt__started_at"))
    if _postgres():
        return qs.annotate(elapsed_s=Func(F("received_at") - since, template="EXTRACT(EPOCH FROM %(expressions)s)",
                                          output_field=FloatField()))
    return qs.annotate(elapsed_s=ExpressionWrapper(F("received_at") - since, output_field=DurationField()))


def _seen_order() -> Any:
    """The option ids in the order this attempt showed them (options are shuffled per attempt), as JSON text:
    on PostgreSQL only the ids (``jsonb_path_query_array``), elsewhere the snapshot's options."""
    if _postgres():
        return Func(F("attempt_question__snapshot"), template="jsonb_path_query_array(%(expressions)s, "
                    "'$.options[*].id')::text", output_field=TextField())
    return Func(F("attempt_question__snapshot"), template="json_extract(%(expressions)s, '$.options')",
                output_field=TextField())


def _seen_letters(order_json: str | None, loads: Callable[[str], Any]) -> dict[int, str]:
    if not order_json:
        return {}
    ids = [item["id"] if isinstance(item, dict) else item for item in loads(order_json) or []]
    return {oid: letter(n) for n, oid in enumerate(ids)}


def answer_rows(*, target: ExportTarget, batch: int = DEFAULT_BATCH) -> Iterator[tuple]:
    """One row per stored answer of the target's rounds, in id order (keyset batches).

    Row: round name, attempt id, registration id, position, question id, type label, the answer with the
    letters the contestant saw ("C. Giấy phép lái xe" — options are shuffled per attempt), the same options'
    letters in the bank, the correct options' letters as the contestant saw them and in the bank, correct
    (bool | None), points, received at, seconds since the question was shown (or since the attempt started
    when every question is shown at once).
    """
    cache = _OptionCache()
    base = _answers_queryset(target)
    names = {r.pk: r.name for r in target.rounds}
    loads = json.loads
    # Most answers repeat a few responses per question and option order: their texts are built once.
    texts: dict[tuple[int, str, str], tuple[str, str, str, str]] = {}

    def query(last_id: int) -> list[tuple]:
        return _fetch(base.filter(id__gt=last_id).order_by("id").values_list(*ANSWER_FIELDS)[:batch])

    for chunk in keyset_batches(query, lambda chunk: chunk[-1][0], 0):
        cache.load({row[5] for row in chunk})
        types = cache.types
        for (_pk, attempt_id, round_id, registration_id, position, question_id, response, is_correct, points,
             received_at, elapsed, order) in chunk:
            qtype = types.get(question_id, "")
            memo = (question_id, response or "", order or "")
            cells = texts.get(memo)
            if cells is None:
                cells = _answer_cells(loads(response) if response else None, question_id, cache,
                                      _seen_letters(order, loads) if qtype in CHOICE_TYPES else {})
                if qtype in CHOICE_TYPES:
                    if len(texts) > 200_000:
                        texts.clear()
                    texts[memo] = cells
            if elapsed.__class__ is dt.timedelta:
                elapsed = elapsed.total_seconds()
            yield (names[round_id], attempt_id, registration_id, position, question_id,
                   QUESTION_TYPE_LABELS.get(qtype, qtype), *cells, is_correct, points, received_at, elapsed)


def _answer_cells(response: Any, question_id: int, cache: _OptionCache,
                  seen: dict[int, str]) -> tuple[str, str, str, str]:
    """(answer as seen, its bank letters, key as seen, key's bank letters) — the last three for choice
    questions only."""
    if not isinstance(response, dict):
        response = {}
    if "options" not in response and not seen:
        return _response_text(response, {}), "", "", ""
    bank = cache.bank_letters.get(question_id, {})
    texts = cache.texts.get(question_id, {})
    chosen = list(response.get("options") or [])

    def seen_order(ids: list[int]) -> list[int]:
        return sorted(ids, key=lambda oid: seen.get(oid, "~"))

    answer = "; ".join(f"{seen.get(oid, '?')}. {texts.get(oid, f'#{oid}')}" for oid in seen_order(chosen))
    correct = cache.correct.get(question_id, [])
    return (answer, ", ".join(bank.get(oid, "?") for oid in seen_order(chosen)),
            ", ".join(seen.get(oid, "?") for oid in seen_order(correct)),
            ", ".join(bank.get(oid, "?") for oid in sorted(correct, key=lambda oid: bank.get(oid, "~"))))


def _response_text(response: Any, options: dict[int, str]) -> str:
    if not isinstance(response, dict):
        return ""
    if "options" in response:
        return "; ".join(options.get(oid, f"#{oid}") for oid in response.get("options") or [])
    if "number" in response:
        return str(response["number"])
    return str(response.get("text", ""))


# --------------------------------------------------------------------------------------------------
# Item statistics
# --------------------------------------------------------------------------------------------------


@dataclass
class StatisticsRows:
    """The rows of the two statistics sheets: one per round and question, one per round."""

    items: list[tuple] = field(default_factory=list)
    tests: list[tuple] = field(default_factory=list)


def _percent(value: float | None, scale: float = 100.0) -> float | None:
    return value * scale if value is not None else None


@dataclass(frozen=True)
class ItemReportRow:
    """One question of a round's statistics, every index in percent (None where it is undefined)."""

    question_id: int
    stem: str
    type_label: str
    times_drawn: int
    graded: int
    unanswered: int
    facility: float | None
    sd: float | None
    discrimination_index: float | None
    discriminative_efficiency: float | None
    discrimination_27: float | None
    options: str


@dataclass(frozen=True)
class StatisticsReport:
    round: Round
    test: TestStatistics
    items: list[ItemReportRow]


def round_statistics_report(*, round: Round) -> StatisticsReport:
    """The statistics page's and the workbook's view of a round: test statistics and item rows (one pass)."""
    stats = round_statistics(round_id=round.pk)
    questions = {q["id"]: q for q in Question.objects.filter(pk__in=[s.question_id for s in stats.items])
                 .values("id", "stem", "type")}
    rows = []
    for item in stats.items:
        question = questions.get(item.question_id, {})
        qtype = question.get("type", "")
        rows.append(ItemReportRow(
            question_id=item.question_id, stem=strip_tags(question.get("stem", ""))[:1000],
            type_label=QUESTION_TYPE_LABELS.get(qtype, qtype), times_drawn=item.times_drawn, graded=item.graded,
            unanswered=item.unanswered, facility=_percent(item.facility), sd=_percent(item.sd),
            discrimination_index=item.discrimination_index,
            discriminative_efficiency=item.discriminative_efficiency,
            discrimination_27=_percent(item.discrimination_27), options=options_text(item.options)))
    return StatisticsReport(round=round, test=stats.test, items=rows)


def statistics_rows(*, target: ExportTarget) -> StatisticsRows:
    """Item and test statistics of each round, in one pass per round (``contests.statistics.round_statistics``;
    formulas in docs/question-bank.md, Moodle's).

    Item row: round name, question id, stem (plain text), type label, times drawn, graded, unanswered, then —
    all in percent, one unit for every index — facility, SD, discrimination index, discriminative efficiency,
    upper–lower 27 % index, and the option distribution. Test row: round name, attempts counted, slots, mean
    and SD of the test mark, Cronbach's alpha. Values are not rounded (the sheet's number format shows them).
    """
    out = StatisticsRows()
    for round in target.rounds:
        report = round_statistics_report(round=round)
        for row in report.items:
            out.items.append((round.name, row.question_id, row.stem, row.type_label, row.times_drawn, row.graded,
                              row.unanswered, row.facility, row.sd, row.discrimination_index,
                              row.discriminative_efficiency, row.discrimination_27, row.options))
        test = report.test
        out.tests.append((round.name, test.attempts, test.slots, test.mean, test.sd, test.cronbach_alpha))
    return out


def item_statistics_rows(*, target: ExportTarget) -> Iterator[tuple]:
    """The item rows of ``statistics_rows``."""
    yield from statistics_rows(target=target).items


def option_label(fraction: Any) -> str:
    """How an option's credit is named beside its letter: "đúng" only for full credit; a partial credit says
    its share, a penalty its (negative) share; no credit says nothing."""
    value = Decimal(str(fraction or 0))
    if value >= 1:
        return "đúng"
    if value > 0:
        return f"đúng một phần, {format_number(value * 100, decimals=2)} %"
    if value < 0:
        return f"trừ điểm, {format_number(value * 100, decimals=2)} %"
    return ""


def options_text(options: Any) -> str:
    """"A (đúng): 12 · B (đúng một phần, 50 %): 3 · C: 0 …" in option order."""
    if not options:
        return ""
    parts = []
    for n, option in enumerate(options):
        letter = chr(65 + n) if n < 26 else str(n + 1)
        label = option_label(option.fraction)
        parts.append(f"{letter} ({label}): {option.count}" if label else f"{letter}: {option.count}")
    return " · ".join(parts)


# --------------------------------------------------------------------------------------------------
# Units
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UnitParticipation:
    unit_id: int
    name: str
    registrations: int
    entrants: int
    attempts: int
    registered_population: int | None
    rate: float | None
    winners: int


def unit_participation(*, target: ExportTarget, winners_by_unit: dict[int, int]) -> list[UnitParticipation]:
    """Participation per unit: registrations (contest), entrants and finished attempts (the target's rounds),
    the rate against the unit's registered population, and winners (counted while writing the ranking)."""
    registrations = {
        row["unit_id"]: row for row in Registration.objects.filter(contest=target.contest)
        .values("unit_id", name=F("unit__name"), population=F("unit__registered_population"))
        .annotate(n=Count("id"))
    }
    activity = {
        row["unit_id"]: row for row in Attempt.objects.filter(round_id__in=target.round_ids,
                                                              status__in=FINISHED_STATUSES)
        .values("unit_id", name=F("unit__name"), population=F("unit__registered_population"))
        .annotate(entrants=Count("registration_id", distinct=True), attempts=Count("id"))
    }
    result = []
    for unit_id in set(registrations) | set(activity):
        reg, act = registrations.get(unit_id, {}), activity.get(unit_id, {})
        info = reg or act
        entrants = act.get("entrants", 0)
        population = info.get("population")
        result.append(UnitParticipation(
            unit_id=unit_id, name=info.get("name") or "", registrations=reg.get("n", 0), entrants=entrants,
            attempts=act.get("attempts", 0), registered_population=population,
            rate=(entrants / population) if population else None, winners=winners_by_unit.get(unit_id, 0)))
    result.sort(key=lambda u: (-u.entrants, -u.attempts, u.name))
    return result


def rows_total(*, target: ExportTarget) -> int:
    return ranking_count(target=target) + (0 if target.published else answers_count(target=target))


def round_names(rounds: Sequence[Round]) -> str:
    return ", ".join(r.name for r in rounds)
