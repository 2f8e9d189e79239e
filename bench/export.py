"""Benchmark of the results export: 100,000 attempts and 1,000,000 answer rows (PostgreSQL only).

    .venv/bin/python bench/export.py [--attempts 100000] [--per-attempt 10] [--db ce_bench_export]
                                     [--openpyxl-rows 200000] [--repeat 2] [--reload]

Loads the data once into its own database (``INSERT … SELECT generate_series``, then the official ranking via
``leaderboards.services.ranking.ranking_compute``), then measures, each in a fresh subprocess so the peak RSS
is clean:

- ``project``: ``exports.workbook.results_workbook_write`` of the round (ranking, answers, item statistics,
  units — everything the job does except the upload to storage);
- ``ceiling_xlsxwriter``: a bare loop of xlsxwriter (constant_memory) writing the same number of rows of the
  same shapes (real rows sampled from the database, values already converted) — the ceiling;
- ``ceiling_openpyxl``: the same bare loop with openpyxl's write-only mode (on ``--openpyxl-rows`` rows: its
  rate is flat in the row count), to document the choice of writer.

Prints one JSON object. Targets: project rows/s ≥ 80 % of the xlsxwriter ceiling; project peak RSS < 300 MB.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SLUG = "bench-export"
SAMPLE = 20_000


def setup_django(db: str) -> None:
    os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{db}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "contest_engine.settings")
    os.environ.pop("REDIS_URL", None)  # in-process cache and channel layer: the export needs neither
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def ensure_database(db: str, *, fresh: bool = False) -> None:
    """Create the database if missing; ``fresh`` (``--reload``): drop it first — the attempts are protected
    from cascading deletes, so a new data set starts from an empty database."""
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        if fresh:
            conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db]).fetchone():
            conn.execute(f'CREATE DATABASE "{db}"')


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --------------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------------


def load(*, attempts: int, per_attempt: int) -> int:
    """Create (or reuse) the benchmark round; returns its id."""
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from accounts.models import Organisation, OrganisationKind
    from contests.models import Answer, Contest, Round
    from leaderboards.services.ranking import ranking_compute
    from questionbank.models import Question, QuestionOption, QuestionStatus

    call_command("migrate", verbosity=0)
    slug = f"{SLUG}-{attempts}-{per_attempt}"
    existing = Contest.objects.filter(slug=slug).first()
    if existing is not None:
        round = existing.rounds.get()
        if Answer.objects.filter(attempt__round=round).count() != attempts * per_attempt:
            raise SystemExit(f"the data set {slug} is incomplete: run again with --reload")
        return round.pk

    started = time.perf_counter()
    now = timezone.now().replace(microsecond=0)
    owner, _ = Organisation.objects.get_or_create(slug="bench-owner", defaults={
        "name": "Sở Tư pháp (benchmark)", "kind": OrganisationKind.DEPARTMENT, "is_unit": False})
    units = [Organisation.objects.get_or_create(slug=f"bench-unit-{i}", defaults={
        "name": f"Phường Benchmark {i}", "kind": OrganisationKind.WARD, "registered_population": 20_000})[0]
        for i in range(20)]
    questions = list(Question.objects.filter(organisation=owner, stem__startswith="<p>Benchmark")[:40])
    if len(questions) < 40:
        for n in range(40 - len(questions)):
            q = Question.objects.create(organisation=owner, stem=f"<p>Benchmark câu hỏi {n}: =SUM(A1)?</p>",
                                        status=QuestionStatus.APPROVED, type="single")
            for i in range(4):
                QuestionOption.objects.create(question=q, position=i, text=f"Phương án {i} của câu {n}",
                                              fraction=Decimal(1 if i == 0 else 0))
            questions.append(q)
    qids = [q.pk for q in questions]
    options = {q: list(QuestionOption.objects.filter(question_id=q).order_by("position").values_list("id", flat=True))
               for q in qids}
    correct = [options[q][0] for q in qids]
    wrong = [options[q][1] for q in qids]
    contest = Contest.objects.create(organisation=owner, title="Cuộc thi benchmark xuất kết quả", slug=slug,
                                     visibility="published", max_attempts=1,
                                     blueprint=[{"topic_id": None, "difficulty": None, "count": per_attempt,
                                                 "points": None}])
    round = Round.objects.create(contest=contest, name="Đợt benchmark", opens_at=now - dt.timedelta(days=8),
                                 closes_at=now - dt.timedelta(days=1))
    unit_ids = [u.pk for u in units]
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            "INSERT INTO accounts_user (password, is_superuser, username, first_name, last_name, is_staff, is_active,"
            " date_joined, phone, full_name) SELECT '!', false, %s || g, '', '', false, true, now(),"
            " '08' || lpad(g::text, 8, '0'), 'Nguyễn Văn Benchmark ' || g FROM generate_series(1, %s) g"
            " ON CONFLICT DO NOTHING", [f"{SLUG}-", attempts])
        cur.execute(
            "INSERT INTO contests_registration (full_name, date_of_birth, national_id, created_at, contest_id,"
            " unit_id, user_id) SELECT u.full_name, date '1960-01-01' + (u.id %% 15000)::int,"
            " lpad(u.id::text, 12, '0'), now(), %s, (%s::bigint[])[1 + u.id %% 20], u.id FROM accounts_user u"
            " WHERE u.username LIKE %s ORDER BY u.id LIMIT %s",
            [contest.pk, unit_ids, f"{SLUG}-%", attempts])
        cur.execute(
            "INSERT INTO contests_attempt (number, status, started_at, deadline, submitted_at, submit_kind,"
            " question_count, duration_ms, prediction, prediction_seq, disqualified_reason,"
            " unit_id, user_id, registration_id, round_id)"
            " SELECT 1, 'submitted', %s + make_interval(secs => r.id %% 500000),"
            " %s + make_interval(secs => r.id %% 500000 + 900),"
            " %s + make_interval(secs => r.id %% 500000 + 300 + r.id %% 600), 'client', %s,"
            " (300 + r.id %% 600) * 1000, r.id %% 5000, 1, '', r.unit_id, r.user_id, r.id, %s"
            " FROM contests_registration r WHERE r.contest_id = %s",
            [round.opens_at, round.opens_at, round.opens_at, per_attempt, round.pk, contest.pk])
        cur.execute(
            "INSERT INTO contests_attemptquestion (position, snapshot, key, points, shown_at, attempt_id,"
            " question_id) SELECT p, jsonb_build_object('type', 'single', 'stem', 'Benchmark'), '{}'::jsonb, 1,"
            " a.started_at, a.id, (%s::bigint[])[1 + (a.id * 7 + p * 13) %% 40]"
            " FROM contests_attempt a CROSS JOIN generate_series(1, %s) p WHERE a.round_id = %s",
            [qids, per_attempt, round.pk])
        cur.execute(
            "INSERT INTO contests_answer (response, client_seq, received_at, revision, is_correct, points_awarded,"
            " attempt_id, attempt_question_id)"
            " SELECT jsonb_build_object('options', jsonb_build_array(CASE WHEN ok THEN (%s::bigint[])[i]"
            " ELSE (%s::bigint[])[i] END)), position, shown_at + make_interval(secs => position * 20), 1, ok,"
            " CASE WHEN ok THEN 1 ELSE 0 END, attempt_id, id FROM ("
            "  SELECT q.*, array_position(%s::bigint[], q.question_id) AS i,"
            "  ((q.attempt_id * 7 + q.position * 13) %% 10) < 7 AS ok"
            "  FROM contests_attemptquestion q JOIN contests_attempt a ON a.id = q.attempt_id"
            "  WHERE a.round_id = %s) s",
            [correct, wrong, qids, round.pk])
        cur.execute(
            "UPDATE contests_attempt a SET score = s.n, correct_count = s.n FROM ("
            " SELECT attempt_id, count(*) FILTER (WHERE is_correct) AS n FROM contests_answer w"
            " JOIN contests_attempt t ON t.id = w.attempt_id WHERE t.round_id = %s GROUP BY attempt_id) s"
            " WHERE a.id = s.attempt_id", [round.pk])
    Round.objects.filter(pk=round.pk).update(closed_at=now, prediction_target_value=attempts // 50)
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    round.refresh_from_db()
    ranking_compute(round=round, prize_places=29)
    print(json.dumps({"loaded_seconds": round_(time.perf_counter() - started)}), file=sys.stderr)
    return round.pk


def round_(value: float) -> float:
    return float(f"{value:.3f}")


# --------------------------------------------------------------------------------------------------
# Children (each in its own process)
# --------------------------------------------------------------------------------------------------


def child_project(round_id: int, out: str) -> dict:
    from exports.selectors import export_target
    from exports.workbook import results_workbook_write

    target = export_target(round_id=round_id)
    started = time.perf_counter()
    stats = results_workbook_write(target=target, out=out, generated_by="benchmark", full_personal_data=True)
    seconds = time.perf_counter() - started
    streamed_rows = stats.sheets["Xếp hạng"] + stats.sheets["Bài làm"]
    streamed_seconds = stats.seconds["Xếp hạng"] + stats.seconds["Bài làm"] + stats.seconds["close"]
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {"seconds": round_(seconds), "rows": stats.rows, "sheets": stats.sheets,
            "rows_per_s": round(stats.rows / seconds), "peak_rss_mb": round(peak_rss_mb(), 1),
            "cpu_seconds": round_(usage.ru_utime + usage.ru_stime),
            # The item-statistics process (exports.parallel) runs beside it: its own peak.
            "statistics_process_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1),
            "seconds_by_sheet": {k: round_(v) for k, v in stats.seconds.items()},
            "streamed_rows_per_s": round(streamed_rows / streamed_seconds),
            "file_mb": round(os.path.getsize(out) / 1e6, 1)}


def _samples(round_id: int) -> tuple[list[tuple], list[tuple], int, int]:
    """Real ranking and answer rows (first SAMPLE of each), converted to the writer's value types."""
    from itertools import islice

    from exports import selectors
    from exports.workbook import _ranking_values
    from exports.writers import to_vietnam_naive

    target = selectors.export_target(round_id=round_id)

    def convert(row: tuple) -> tuple:
        out = []
        for v in row:
            if isinstance(v, Decimal):
                v = float(v)
            elif isinstance(v, dt.datetime) and v.tzinfo is not None:
                v = to_vietnam_naive(v)
            elif isinstance(v, dt.date):
                v = dt.datetime(v.year, v.month, v.day)
            out.append(v)
        return tuple(out)

    ranking = [convert(_ranking_values(r)) for r in islice(
        selectors.ranking_rows(target=target, full_personal_data=True), SAMPLE)]
    answers = [convert(r) for r in islice(selectors.answer_rows(target=target), SAMPLE)]
    return ranking, answers, selectors.ranking_count(target=target), selectors.answers_count(target=target)


def child_ceiling_xlsxwriter(round_id: int, out: str, limit: int | None) -> dict:
    import xlsxwriter

    ranking, answers, n_ranking, n_answers = _samples(round_id)
    if limit:
        n_ranking, n_answers = min(n_ranking, limit // 11), min(n_answers, limit - limit // 11)
    started = time.perf_counter()
    book = xlsxwriter.Workbook(out, {"constant_memory": True})
    date_format = book.add_format({"num_format": "dd/mm/yyyy hh:mm:ss"})
    for name, sample, total in (("Xếp hạng", ranking, n_ranking), ("Bài làm", answers, n_answers)):
        sheet = book.add_worksheet(name)
        width = len(sample[0])
        for c in range(width):
            sheet.write_string(0, c, f"cột {c}")
        k = len(sample)
        for r in range(total):
            row = sample[r % k]
            for c, v in enumerate(row):
                if v is None:
                    continue
                if isinstance(v, str):
                    sheet.write_string(r + 1, c, v)
                elif isinstance(v, bool):
                    sheet.write_boolean(r + 1, c, v)
                elif isinstance(v, dt.datetime):
                    sheet.write_datetime(r + 1, c, v, date_format)
                else:
                    sheet.write_number(r + 1, c, v)
    book.close()
    seconds = time.perf_counter() - started
    rows = n_ranking + n_answers
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {"seconds": round_(seconds), "rows": rows, "rows_per_s": round(rows / seconds),
            "cpu_seconds_total": round_(usage.ru_utime + usage.ru_stime), "peak_rss_mb": round(peak_rss_mb(), 1)}


def child_ceiling_openpyxl(round_id: int, out: str, limit: int | None) -> dict:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    ranking, answers, n_ranking, n_answers = _samples(round_id)
    if limit:
        n_ranking, n_answers = min(n_ranking, limit // 11), min(n_answers, limit - limit // 11)
    started = time.perf_counter()
    book = Workbook(write_only=True)
    for name, sample, total in (("Xếp hạng", ranking, n_ranking), ("Bài làm", answers, n_answers)):
        sheet = book.create_sheet(name)
        sheet.append([f"cột {c}" for c in range(len(sample[0]))])
        k = len(sample)
        for r in range(total):
            cells = []
            for v in sample[r % k]:
                cell = WriteOnlyCell(sheet, value=v)
                if isinstance(v, str):
                    cell.data_type = "s"  # explicit text: never a formula
                cells.append(cell)
            sheet.append(cells)
    book.save(out)
    seconds = time.perf_counter() - started
    rows = n_ranking + n_answers
    return {"seconds": round_(seconds), "rows": rows, "rows_per_s": round(rows / seconds),
            "peak_rss_mb": round(peak_rss_mb(), 1)}


def run_child(kind: str, args: argparse.Namespace, round_id: int, limit: int | None = None) -> dict:
    with tempfile.TemporaryDirectory(prefix="ce-bench-export-") as tmp:
        out = os.path.join(tmp, f"{kind}.xlsx")
        cmd = [sys.executable, __file__, "--child", kind, "--db", args.db, "--round", str(round_id), "--out", out]
        if limit:
            cmd += ["--limit", str(limit)]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
        if done.returncode != 0:
            sys.exit(f"{kind} failed:\n{done.stderr}")
        return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--attempts", type=int, default=100_000)
    parser.add_argument("--per-attempt", type=int, default=10)
    parser.add_argument("--db", default="ce_bench_export")
    parser.add_argument("--openpyxl-rows", type=int, default=200_000)
    parser.add_argument("--reload", action="store_true")
    parser.add_argument("--repeat", type=int, default=2, help="Runs of project and ceiling (best kept)")
    parser.add_argument("--child", choices=["project", "ceiling-xlsxwriter", "ceiling-openpyxl"])
    parser.add_argument("--round", type=int)
    parser.add_argument("--out")
    parser.add_argument("--limit", type=int)
    args = parser.parse_args()

    if args.child:
        setup_django(args.db)
        if args.child == "project":
            result = child_project(args.round, args.out)
        elif args.child == "ceiling-xlsxwriter":
            result = child_ceiling_xlsxwriter(args.round, args.out, args.limit)
        else:
            result = child_ceiling_openpyxl(args.round, args.out, args.limit)
        print(json.dumps(result, ensure_ascii=False))
        return

    ensure_database(args.db, fresh=args.reload)
    setup_django(args.db)
    round_id = load(attempts=args.attempts, per_attempt=args.per_attempt)
    # The machine is shared: run project and ceiling alternately ``--repeat`` times and keep each one's best
    # (highest rows/s) run; every run's rate is reported too.
    projects, ceilings = [], []
    for _ in range(args.repeat):
        projects.append(run_child("project", args, round_id))
        ceilings.append(run_child("ceiling-xlsxwriter", args, round_id))
    project = max(projects, key=lambda r: r["rows_per_s"])
    ceiling = max(ceilings, key=lambda r: r["rows_per_s"])
    project["all_rows_per_s"] = [r["rows_per_s"] for r in projects]
    project["peak_rss_mb"] = max(r["peak_rss_mb"] for r in projects)
    ceiling["all_rows_per_s"] = [r["rows_per_s"] for r in ceilings]
    openpyxl = run_child("ceiling-openpyxl", args, round_id, limit=args.openpyxl_rows)
    ratio = project["rows_per_s"] / ceiling["rows_per_s"]
    print(json.dumps({
        "attempts": args.attempts, "answers": args.attempts * args.per_attempt,
        "load_avg_1min": os.getloadavg()[0],
        "project": project, "ceiling_xlsxwriter": ceiling, "ceiling_openpyxl": openpyxl,
        "share_of_ceiling": round(ratio, 3),
        # The same share for the streamed sheets only (ranking + answers, file close), i.e. without the
        # item-statistics computation (questionbank.selectors.question_item_statistics) and the unit query.
        "streamed_share_of_ceiling": round(project["streamed_rows_per_s"] / ceiling["rows_per_s"], 3),
        "xlsxwriter_vs_openpyxl": round(ceiling["rows_per_s"] / openpyxl["rows_per_s"], 2),
        "targets": {"share_of_ceiling": 0.8, "peak_rss_mb": 300},
        "pass": ratio >= 0.8 and project["peak_rss_mb"] < 300,
    }, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
