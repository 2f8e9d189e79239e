"""Item and test statistics of the questions drawn in contests (Moodle's quiz statistics; formulas in
docs/question-bank.md): facility, SD, discrimination index and efficiency, the upper–lower 27 % index, option
distributions, Cronbach's alpha. Read from the finished attempts of contests (their questions and marks),
so they live here rather than in the question bank below.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from contests.models import FINISHED_STATUSES, AttemptQuestion
from questionbank.models import QuestionOption


@dataclass
class OptionCount:
    option_id: int
    text: str
    fraction: Any
    count: int


@dataclass
class ItemStatistics:
    question_id: int
    times_drawn: int                      # finished attempts that drew this question version
    graded: int                           # of which graded (ungraded essays are left out of the statistics)
    facility: float | None                # mean mark / max mark, 0..1
    sd: float | None                      # sample standard deviation of mark / max mark
    discrimination_index: float | None    # 100 × correlation(item mark, rest-of-test mark)
    discriminative_efficiency: float | None  # 100 × cov(item, rest) / the largest cov(item, rest) attainable
    discrimination_27: float | None       # facility(upper 27 % by test mark) − facility(lower 27 %), 0..1
    unanswered: int = 0
    options: list[OptionCount] | None = None


@dataclass
class TestStatistics:
    round_id: int
    attempts: int                         # finished attempts with the full number of slots
    slots: int
    mean: float | None                    # mean total of the auto-graded marks
    sd: float | None
    cronbach_alpha: float | None


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values)


def _cov(a: Sequence[float], b: Sequence[float]) -> float:
    ma, mb = _mean(a), _mean(b)
    return sum((x - ma) * (y - mb) for x, y in zip(a, b, strict=True)) / (len(a) - 1)


def _finished_rows(*, round_id: int | None, question_ids: Iterable[int] | None) -> Any:
    """(attempt id, position, question id, points, points awarded, response) of finished attempts, ordered by
    attempt — every question of each attempt, so test totals are complete."""
    qs = AttemptQuestion.objects.filter(attempt__status__in=FINISHED_STATUSES)
    if round_id is not None:
        qs = qs.filter(attempt__round_id=round_id)
    if question_ids is not None:
        drew = AttemptQuestion.objects.filter(question_id__in=list(question_ids),
                                              attempt__status__in=FINISHED_STATUSES).values("attempt_id")
        qs = qs.filter(attempt_id__in=drew)
    return (qs.order_by("attempt_id", "position")
            .values_list("attempt_id", "position", "question_id", "points", "answers__points_awarded",
                         "answers__response", "snapshot__type")
            .iterator(chunk_size=5000))


def _attempts(rows: Any) -> Any:
    """Group the ordered rows by attempt: yields lists of rows of one attempt."""
    current: list = []
    last = None
    for row in rows:
        if row[0] != last and current:
            yield current
            current = []
        last = row[0]
        current.append(row)
    if current:
        yield current


class _Items:
    """Accumulates the item statistics of the attempts it is given (``add``, one attempt's rows at a time)."""

    def __init__(self, wanted: set[int] | None) -> None:
        self.wanted = wanted
        self.marks: dict[int, tuple[array, array, array]] = {}   # qid → (item mark, max mark, test mark)
        self.order: dict[int, array] = {}                          # qid → attempt ids (tie-break)
        self.chosen: dict[int, dict[int, int]] = {}
        self.drawn: dict[int, int] = {}
        self.unanswered: dict[int, int] = {}

    def add(self, attempt_rows: list) -> None:
        total = sum(float(r[4] or 0) for r in attempt_rows)
        for attempt_id, _pos, qid, points, awarded, response, qtype in attempt_rows:
            if self.wanted is not None and qid not in self.wanted:
                continue
            self.drawn[qid] = self.drawn.get(qid, 0) + 1
            options = (response or {}).get("options") if isinstance(response, dict) else None
            if response is None or (isinstance(response, dict) and not any(response.values())):
                self.unanswered[qid] = self.unanswered.get(qid, 0) + 1
            if options:
                counts = self.chosen.setdefault(qid, {})
                for oid in options:
                    try:
                        counts[int(oid)] = counts.get(int(oid), 0) + 1
                    except (TypeError, ValueError):
                        continue
            if awarded is None and response is not None and qtype == "essay":
                continue  # waiting for a judge: not part of the item statistics
            x, m, t = self.marks.setdefault(qid, (array("d"), array("d"), array("d")))
            x.append(float(awarded or 0))
            m.append(float(points or 0))
            t.append(total)
            self.order.setdefault(qid, array("q")).append(attempt_id)

    def results(self) -> list[ItemStatistics]:
        option_rows: dict[int, list[QuestionOption]] = {}
        for option in QuestionOption.objects.filter(question_id__in=list(self.drawn)).order_by(
                "question_id", "position", "id"):
            option_rows.setdefault(option.question_id, []).append(option)
        results = []
        for qid in sorted(self.drawn):
            x, m, t = self.marks.get(qid, ([], [], []))
            stats = _item(list(x), list(m), list(t), list(self.order.get(qid, [])))
            options = None
            if qid in option_rows:
                counts = self.chosen.get(qid, {})
                options = [OptionCount(o.pk, o.text, o.fraction, counts.get(o.pk, 0)) for o in option_rows[qid]]
            results.append(ItemStatistics(question_id=qid, times_drawn=self.drawn[qid], graded=len(x),
                                          unanswered=self.unanswered.get(qid, 0), options=options, **stats))
        return results


class _Test:
    """Accumulates the test statistics of a round: per-slot sums and one total per complete attempt."""

    def __init__(self, slots: int) -> None:
        self.slots = slots
        self.sums = [0.0] * slots
        self.squares = [0.0] * slots
        self.totals: list[float] = []

    def add(self, attempt_rows: list) -> None:
        if len(attempt_rows) != self.slots:
            return
        marks = [float(r[4] or 0) for r in attempt_rows]
        for k, value in enumerate(marks):
            self.sums[k] += value
            self.squares[k] += value * value
        self.totals.append(sum(marks))

    def result(self, round_id: int) -> TestStatistics:
        totals, slots = self.totals, self.slots
        n = len(totals)
        mean = _mean(totals) if n else None
        sd = _cov(totals, totals) ** 0.5 if n > 1 else None
        alpha = None
        if n > 1 and slots > 1:
            var_total = _cov(totals, totals)
            item_vars = sum((self.squares[k] - self.sums[k] * self.sums[k] / n) / (n - 1) for k in range(slots))
            if var_total > 0:
                alpha = slots / (slots - 1) * (1 - item_vars / var_total)
        return TestStatistics(round_id=round_id, attempts=n, slots=slots, mean=mean, sd=sd, cronbach_alpha=alpha)


def question_item_statistics(*, round_id: int | None = None,
                             question_ids: Iterable[int] | None = None) -> list[ItemStatistics]:
    """Per question version: times drawn, facility, SD, discrimination index, discriminative efficiency,
    upper–lower 27 % discrimination and option distribution, over the finished attempts (of ``round_id``,
    and/or that drew ``question_ids``). Marks are the stored ``Answer.points_awarded`` (0 when unanswered);
    the test mark is the sum of an attempt's marks. Memory: two floats per (attempt, question) drawn."""
    items = _Items(set(question_ids) if question_ids is not None else None)
    for attempt_rows in _attempts(_finished_rows(round_id=round_id, question_ids=question_ids)):
        items.add(attempt_rows)
    return items.results()


@dataclass
class RoundStatistics:
    test: TestStatistics
    items: list[ItemStatistics]


def round_statistics(*, round_id: int) -> RoundStatistics:
    """The test statistics and every item's statistics of a round in ONE pass over its finished attempts
    (what the statistics page and the results workbook show)."""
    test = _Test(_slot_count(round_id))
    items = _Items(None)
    for attempt_rows in _attempts(_finished_rows(round_id=round_id, question_ids=None)):
        items.add(attempt_rows)
        test.add(attempt_rows)
    return RoundStatistics(test=test.result(round_id), items=items.results())


def _slot_count(round_id: int) -> int:
    return (AttemptQuestion.objects.filter(attempt__round_id=round_id, attempt__status__in=FINISHED_STATUSES)
            .values("position").distinct().count())


def _item(x: list[float], m: list[float], t: list[float], attempt_ids: list[int]) -> dict[str, float | None]:
    n = len(x)
    out: dict[str, float | None] = {"facility": None, "sd": None, "discrimination_index": None,
                                    "discriminative_efficiency": None, "discrimination_27": None}
    if n == 0:
        return out
    p = [xi / mi if mi else 0.0 for xi, mi in zip(x, m, strict=True)]
    out["facility"] = _mean(p)
    if n < 2:
        return out
    out["sd"] = _cov(p, p) ** 0.5
    rest = [ti - xi for ti, xi in zip(t, x, strict=True)]
    var_x, var_r = _cov(x, x), _cov(rest, rest)
    if var_x > 0 and var_r > 0:
        out["discrimination_index"] = 100 * _cov(x, rest) / (var_x * var_r) ** 0.5
    # Moodle: the covariance with the rest of the test over the largest one the same marks could give
    # (both lists sorted ascending and paired) — the rest, not the whole test, which includes the item itself
    # and so always leaned positive (issue 20: +12 … +62 where Moodle gave −6.5 … −57).
    cov_max = _cov(sorted(x), sorted(rest))
    if cov_max > 0:
        out["discriminative_efficiency"] = 100 * _cov(x, rest) / cov_max
    group = max(1, round(0.27 * n))
    ranked = sorted(range(n), key=lambda i: (-t[i], attempt_ids[i]))
    upper, lower = ranked[:group], ranked[-group:]
    out["discrimination_27"] = _mean([p[i] for i in upper]) - _mean([p[i] for i in lower])
    return out


def round_test_statistics(*, round_id: int) -> TestStatistics:
    """Test-level statistics of a round: Cronbach's alpha over slots (positions), as Moodle computes it for
    quizzes of random questions — slot k is "item k" whatever question filled it. Only finished attempts
    having every slot count. Streams: per-slot sums plus one float per attempt."""
    test = _Test(_slot_count(round_id))
    for attempt_rows in _attempts(_finished_rows(round_id=round_id, question_ids=None)):
        test.add(attempt_rows)
    return test.result(round_id)
