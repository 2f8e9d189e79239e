"""The benchmark scripts still run: each one at a tiny scale, in its own database and Redis db, printing the
JSON report the closing notes quote. The numbers are not checked (benchmarks measure, tests do not time);
what is checked is that the script works end to end and its correctness counters are clean."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PG = os.environ.get("BENCH_TEST_PG", "postgres://postgres@127.0.0.1:5432")
REDIS = "redis://127.0.0.1:6379"

pytestmark = pytest.mark.slow


def run(script: str, *args: str, env: dict[str, str] | None = None, timeout: int = 300) -> dict:
    environment = {**os.environ, **(env or {})}
    environment.pop("DJANGO_SETTINGS_MODULE", None)  # the scripts run the production settings
    proc = subprocess.run([sys.executable, f"bench/{script}", *args], cwd=ROOT, env=environment,
                          capture_output=True, text=True, timeout=timeout, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    start = proc.stdout.index("{")
    return json.loads(proc.stdout[start:])


def test_exam_load_runs_every_phase_and_loses_nothing():
    report = run("exam_load.py", "--fresh-db", "--citizens", "30", "--interval", "1", "--duration", "3",
                 "--sat-conns", "20", "--sat-seconds", "2", "--clients", "1",
                 env={"DATABASE_URL": f"{PG}/ce_test_bench_exam", "REDIS_URL": f"{REDIS}/13"})
    assert report["echo"]["messages"] > 0
    assert report["saturation"]["messages"] > 0
    assert report["durable_answers_share_of_echo"] > 0
    paced = report["paced"]
    assert (paced["connected"], paced["connect_failed"], paced["errors"]) == (30, 0, {})
    assert paced["submitted"] == 30
    for phase in (report["saturation"], paced):
        check = phase["db_check"]
        assert check["acked_answers_checked"] > 0
        assert (check["lost"], check["duplicated"], check["submitted_not_finished_in_db"]) == (0, 0, 0)
    assert paced["db_check"]["submitted_told"] == 30


def test_leaderboard_bench_ranks_every_entry():
    report = run("leaderboard.py", "--entries", "3000", "--units", "5", "--samples", "50", "--updates", "20",
                 "--db", "ce_test_bench_leader", "--pg", PG, "--redis", f"{REDIS}/14")
    assert report["attempts"] == report["ranked_entries"] == 3000
    assert report["rebuilt_entries"] > 0
    assert report["update_ms"]["n"] == 20


def test_export_bench_writes_every_row():
    report = run("export.py", "--attempts", "300", "--per-attempt", "3", "--db", "ce_test_bench_export",
                 "--openpyxl-rows", "500", "--repeat", "1", "--reload")
    assert report["attempts"] == 300
    assert report["project"]["rows"] >= 300
    assert report["ceiling_xlsxwriter"]["rows"] > 0


def migrated_database(name: str) -> str:
    """``postgres://…/name``, created afresh and migrated (the import benchmark expects both).

    Dropped first: a database left by an older checkout has a migration history this one does not know."""
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    url = f"{PG}/{name}"
    environment = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, check=True,
                   env={**environment, "DATABASE_URL": url, "REDIS_URL": f"{REDIS}/15"}, timeout=300)
    return url


def test_import_bench_imports_every_row():
    report = run("import_questions.py", "--rows", "200",
                 env={"DATABASE_URL": migrated_database("ce_test_bench_import"), "REDIS_URL": f"{REDIS}/15"})
    assert report["imported"] == 200
    assert report["errors"] == []


def test_sweep_bench_finishes_every_attempt_at_its_deadline():
    report = run("sweep.py", "--fresh-db", "--attempts", "40",
                 env={"DATABASE_URL": f"{PG}/ce_test_bench_sweep", "REDIS_URL": f"{REDIS}/12"})
    assert report["swept"] == 40
    assert report["all_finished"] is True


def test_practice_load_answers_over_http_and_loses_nothing():
    report = run("practice_load.py", "--fresh-db", "--citizens", "20", "--interval", "1", "--duration", "3",
                 "--clients", "1", "--questions", "5",
                 env={"DATABASE_URL": f"{PG}/ce_test_bench_practice", "REDIS_URL": f"{REDIS}/11"})
    paced = report["paced"]
    assert paced["answers"] > 20
    assert (paced["errors"], paced["connect_failed"]) == ({}, 0)
    check = paced["db_check"]
    assert check["acked_answers_checked"] == paced["answers"]
    assert (check["lost"], check["duplicated"], check["stored_not_acked"]) == (0, 0, 0)
    assert "p99" in paced["latency_ms"]


def test_anticheat_bench_analyses_every_attempt():
    report = run("anticheat.py", "--attempts", "400", "--per-attempt", "10", "--bank", "20", "--units", "5",
                 "--db", "ce_test_bench_anticheat", "--pg", PG)
    assert report["in_exam_checks"]["attempts"] == 400
    analysis = report["analysis"]
    assert analysis["attempts"] == 400
    assert analysis["copying"]["answers"] == 4000
    assert analysis["copying"]["pairs_tested"] > 0
    assert set(report["targets"]) == {"post_round_60s", "memory_1GB", "high_flags_half_percent"}

def test_live_load_bench_counts_every_answer_once():
    report = run("live_load.py", "--fresh-db", "--players", "20", "--silent", "2", "--questions", "2", "--seconds", "5",
                 "--answer-window", "2", "--pause", "0.3", "--clients", "1", "--servers", "2",
                 env={"DATABASE_URL": f"{PG}/ce_test_bench_live", "REDIS_URL": f"{REDIS}/11"})
    assert (report["join"]["connected"], report["join"]["failed"], report["errors"]) == (22, 0, {})
    for position in ("1", "2"):
        question = report["questions"][position]
        assert question["question_reached"] == 22
        assert question["answers_sent"] == question["answers_acked"] == 20
        assert question["closed_by"] == "deadline"  # two players never answer
        assert question["reveals_received"] == question["personal_reveals"] == 22
        check = report["db_check"][position]
        assert (check["acked"], check["stored"], check["counted_by_close"]) == (20, 20, 20)
        assert (check["acked_not_stored"], check["stored_not_acked"]) == (0, 0)
    assert report["db_check"]["scores_differing_from_replay"] == 0
    assert report["finished_frames"] == 22


def test_http_load_bench_serves_every_page_and_the_login_storm_without_errors():
    report = run("http_load.py", "--fresh-db", "--concurrency", "8", "--seconds", "1.5", "--storm-logins", "30",
                 "--storm-seconds", "3", "--exam-citizens", "10", "--exam-interval", "0.5", "--results", "10",
                 "--clients", "1", timeout=600,
                 env={"DATABASE_URL": f"{PG}/ce_test_bench_http", "REDIS_URL": f"{REDIS}/10"})
    assert set(report["pages"]) == {"contests", "contest", "login_page", "login", "signup", "result",
                                    "leaderboard_round", "leaderboard_contest"}
    for page, phase in report["pages"].items():
        assert phase["requests"] > 0, page
        assert phase["errors"] == {}, (page, phase["errors"])
        assert phase["exam"]["acks"] > 0, page
        assert phase["exam"]["errors"] == {}, page
        assert phase["database_connections"]["max"] >= 1, page
    storm = report["storm"]
    assert (storm["logged_in"], storm["errors"]) == (30, {})
    assert storm["exam"]["errors"] == {}
    assert report["exam_connect_failed"] == 0
    assert report["database"]["engine"] == "contest_engine.postgresql"
    assert report["database"]["password_hashers"] == ["accounts.hashers.Argon2idHasher"]
    assert report["database_connections_within_budget"] is True


def test_api_load_bench_serves_the_contests_list_and_its_304s():
    report = run("api_load.py", "--fresh-db", "--contests", "12", "--rounds", "2", "--concurrency", "2",
                 "--seconds", "1",
                 env={"DATABASE_URL": f"{PG}/ce_test_bench_api", "REDIS_URL": f"{REDIS}/10"})
    assert report["published_contests"] == 12
    assert report["response"]["status"] == 200
    assert report["response"]["etag"].startswith('"')
    plain, conditional = report["phases"]["plain"], report["phases"]["conditional"]
    assert plain["requests"] > 0
    assert plain["statuses"] == {"200": plain["requests"]}
    assert conditional["statuses"] == {"304": conditional["requests"]}
    for phase in (plain, conditional):
        assert phase["errors"] == {}
        assert {"p50", "p99"} <= set(phase["latency_ms"])


def test_password_hash_bench_measures_both_hashers():
    report = run("password_hash.py", "--checks", "2")
    assert report["argon2id_owasp_minimum"]["encoded_prefix"] == "argon2$argon2id$v=19$m=19456,t=2,p=1"
    assert report["pbkdf2_sha256_django_default"]["verify_cpu_ms"]["p50"] > 0
