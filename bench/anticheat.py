#!/usr/bin/env python
"""Anti-cheat benchmark (docs/anti-cheat.md, "Measured"). Prints one JSON document.

1. **post-round analysis** — a closed round of ``--attempts`` simulated citizens × ``--per-attempt``
   questions (``anticheat.simulate``: the honest population with its networks, devices and evidence) is
   generated in its own database. Then, each in a fresh process whose wall time and peak memory (max RSS)
   are measured: the in-exam checks of every attempt (what the periodic job does while the round runs:
   ``round_checks_run``), and the analysis after the close (``round_analyse``: network bursts, answer
   copying, prediction farming, duplicate persons, sign-up bursts). The flag rates of this (normal)
   population are reported per kind. Target: the analysis of 100,000 × 25 in ≤ 60 s and ≤ 1 GB.
2. **in-exam cost** (``--saturation``) — ``bench/exam_load.py``'s echo + saturation phases twice, with the
   exam evidence off (``ANTICHEAT_IN_EXAM=0``) and on: durable answers/s and the ratio to echo of each, and
   the cost of the evidence as a share of the answer rate. Target: ≤ 5 % cost, ratio to echo ≥ 0.8.

Example (a quiet machine)::

    .venv/bin/python bench/anticheat.py --attempts 100000 --per-attempt 25 --saturation --sat-conns 500 \\
        --sat-seconds 15 --pin
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _setup(db_url: str) -> None:
    os.environ["DATABASE_URL"] = db_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "contest_engine.settings")
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/12")
    import django

    django.setup()


def fresh_database(pg: str, name: str) -> str:
    import psycopg

    with psycopg.connect(f"{pg}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    url = f"{pg}/{name}"
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "contest_engine.settings"}
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    return url


def generate(args: argparse.Namespace, db_url: str) -> dict:
    _setup(db_url)
    from anticheat import simulate

    started = time.perf_counter()
    sim = simulate.round_create(questions=args.bank, per_attempt=args.per_attempt, units=args.units, seed=1)
    made = 0
    chunk = 20_000
    while made < args.attempts:
        n = min(chunk, args.attempts - made)
        people = simulate.honest_people(sim, n, seed=100 + made)
        first_user = len(sim.users)
        simulate.people_store(sim, people, per_attempt=args.per_attempt, seed=200 + made)
        simulate.signup_evidence_store(sim, people, sim.users[first_user:])
        made += n
    return {"round_id": sim.round.pk, "generate_seconds": round(time.perf_counter() - started, 1)}


def analyse(round_id: int, db_url: str, *, in_exam: bool = False) -> dict:
    """Runs in its own process (``--analyse-only``): its peak RSS is the analysis's alone."""
    _setup(db_url)
    from collections import Counter

    from django.utils import timezone

    from anticheat.models import Flag, Severity
    from anticheat.services import round_analyse, round_checks_run
    from contests.models import Round

    round_ = Round.objects.select_related("contest").get(pk=round_id)
    if in_exam:
        # What the periodic job does during the round, all at once: the in-exam checks of every attempt.
        started = time.perf_counter()
        done = round_checks_run(round=round_, now=timezone.now() + dt.timedelta(days=1))
        wall = time.perf_counter() - started
        return {"attempts": done["attempts"], "wall_seconds": round(wall, 2),
                "attempts_per_second": round(done["attempts"] / wall, 1) if wall else None,
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}
    started = time.perf_counter()
    report = round_analyse(round=round_)
    wall = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    n = report["attempts"]
    counts = Counter(Flag.objects.filter(round=round_).values_list("kind", "severity"))
    high = Flag.objects.filter(round=round_, severity=Severity.HIGH).values("attempt_id").distinct().count()
    return {
        "attempts": n, "wall_seconds": round(wall, 2), "peak_rss_mb": round(peak_mb, 1),
        "seconds": {k: round(v, 2) for k, v in report["seconds"].items()}, "copying": report["copying"],
        "flag_rates_percent": {f"{k}/{s}": round(100 * c / max(n, 1), 3) for (k, s), c in sorted(counts.items())},
        "high_attempts_percent": round(100 * high / max(n, 1), 3),
        "post_round_seconds": round(sum(v for k, v in report["seconds"].items() if k not in ("in_exam", "total")), 2),
    }


def saturation(args: argparse.Namespace) -> dict:
    out: dict = {}
    for label, flag in (("without_checks", "0"), ("with_checks", "1")):
        cmd = [sys.executable, "bench/exam_load.py", "--fresh-db", "--skip", "paced", "--sat-conns",
               str(args.sat_conns), "--sat-seconds", str(args.sat_seconds), "--clients", str(args.clients),
               "--citizens", str(max(args.sat_conns, 10))]
        if args.pin:
            cmd.append("--pin")
        env = {**os.environ, "ANTICHEAT_IN_EXAM": flag,
               "DATABASE_URL": f"{args.pg}/{args.db}_sat", "REDIS_URL": args.sat_redis}
        env.pop("DJANGO_SETTINGS_MODULE", None)
        proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800, check=False)
        if proc.returncode != 0:
            out[label] = {"error": proc.stderr[-2000:]}
            continue
        report = json.loads(proc.stdout[proc.stdout.index("{"):])
        out[label] = {"echo_per_second": report["echo"]["per_second"],
                      "answers_per_second": report["saturation"]["per_second"],
                      "share_of_echo": report.get("durable_answers_share_of_echo"),
                      "lost": report["saturation"]["db_check"]["lost"],
                      "duplicated": report["saturation"]["db_check"]["duplicated"]}
    if all("answers_per_second" in out.get(k, {}) for k in ("without_checks", "with_checks")):
        without, with_ = out["without_checks"]["answers_per_second"], out["with_checks"]["answers_per_second"]
        out["cost_percent"] = round(100 * (without - with_) / without, 2) if without else None
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--attempts", type=int, default=100_000)
    ap.add_argument("--per-attempt", type=int, default=25)
    ap.add_argument("--bank", type=int, default=60, help="questions in the bank (each attempt draws --per-attempt)")
    ap.add_argument("--units", type=int, default=103)
    ap.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432")
    ap.add_argument("--db", default="ce_bench_anticheat")
    ap.add_argument("--saturation", action="store_true", help="also measure the in-exam cost with exam_load.py")
    ap.add_argument("--sat-conns", type=int, default=500)
    ap.add_argument("--sat-seconds", type=float, default=15.0)
    ap.add_argument("--sat-redis", default="redis://127.0.0.1:6379/11")
    ap.add_argument("--clients", type=int, default=2)
    ap.add_argument("--pin", action="store_true")
    ap.add_argument("--analyse-only", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--in-exam-only", type=int, default=0, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.analyse_only or args.in_exam_only:
        print(json.dumps(analyse(args.analyse_only or args.in_exam_only, f"{args.pg}/{args.db}",
                                 in_exam=bool(args.in_exam_only))))
        return
    db_url = fresh_database(args.pg, args.db)
    report: dict = {"attempts": args.attempts, "per_attempt": args.per_attempt, "bank": args.bank}
    report.update(generate(args, db_url))
    # Each step runs in a new process, so that its peak memory is its own: first the in-exam checks of every
    # attempt (the periodic job's work during the round), then the analysis after the close.
    for key, flag in (("in_exam_checks", "--in-exam-only"), ("analysis", "--analyse-only")):
        proc = subprocess.run([sys.executable, __file__, flag, str(report["round_id"]), "--pg", args.pg,
                               "--db", args.db], cwd=ROOT, capture_output=True, text=True, check=False,
                              env={**os.environ, "DJANGO_SETTINGS_MODULE": "contest_engine.settings"})
        if proc.returncode != 0:
            raise SystemExit(proc.stderr[-3000:])
        report[key] = json.loads(proc.stdout[proc.stdout.index("{"):])
    report["targets"] = {"post_round_60s": report["analysis"]["wall_seconds"] <= 60,
                         "memory_1GB": report["analysis"]["peak_rss_mb"] <= 1024,
                         "high_flags_half_percent": report["analysis"]["high_attempts_percent"] <= 0.5}
    if args.saturation:
        report["in_exam_cost"] = saturation(args)
    print(json.dumps(report, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
