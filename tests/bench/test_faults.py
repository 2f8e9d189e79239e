"""The fault runs (bench/faults/run.py; issue 12, and the outages of issue 20) at a tiny scale: 20 citizens,
seconds long, PostgreSQL without fsync. Each run starts its own PostgreSQL cluster, Redis, 2 uvicorn processes
and a task worker, injects its fault mid-exam, and compares every acknowledged answer with the database.

Timing is never asserted (benchmarks measure, tests do not time); what is asserted is what must hold whatever
the machine's speed: nothing acked is lost, changed or duplicated, every citizen submits, no deadline moves,
nobody sees an error that is not "reconnecting" — and each fault's own promise (the other process takes over,
the newer connection wins after a Redis restart, /healthz answers JSON while PostgreSQL is down, the worker
finalises what fell due, the ranking is computed once…)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CITIZENS = 20
SMOKE = ["--citizens", str(CITIZENS), "--clients", "1", "--interval", "1", "--warmup", "4", "--after", "8",
         "--down", "4", "--settle", "6", "--switch-every", "4", "--offline", "3", "--fast", "--submit-timeout", "60"]

pytestmark = pytest.mark.slow


def fault_run(name: str, *extra: str) -> dict:
    environment = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    proc = subprocess.run([sys.executable, "bench/faults/run.py", "--run", name, *SMOKE, *extra], cwd=ROOT,
                          env=environment, capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr[-4000:]
    report = json.loads(proc.stdout)
    assert "error" not in report, report["error"]
    return report


def assert_nothing_lost(report: dict) -> None:
    check, clients = report["db_check"], report["clients"]
    assert check["acked_answers_checked"] > 0
    assert (check["lost"], check["changed"], check["duplicated"]) == (0, 0, 0), check
    assert (check["submitted_told"], check["submitted_not_finished_in_db"]) == (CITIZENS, 0), check
    assert (check["deadlines_moved_in_db"], check["citizens_seeing_two_deadlines"]) == (0, 0), check
    assert clients["pending_left"] == 0, clients


def assert_no_visible_errors(report: dict) -> None:
    assert report["clients"]["client_visible_errors"] == 0, report["clients"]["visible"]


def assert_everybody_answered_again(report: dict, *, affected_only: bool = False) -> None:
    assert report["recovery"], report["fault"]
    for what, entry in report["recovery"].items():
        part = entry["affected_only"] if affected_only else entry["from_fault"]
        assert part["never_acked_again"] == 0, (what, entry)


def no_tracebacks(report: dict, *, known: frozenset[str] = frozenset()) -> None:
    """No process logged a traceback, except by the ``known`` loggers (each would need its own xfail test)."""
    for name, found in report["tracebacks"].items():
        assert set(found["by_logger"]) <= known, (name, found)


def test_kill_9_of_a_server_process_its_citizens_continue_on_the_other():
    report = fault_run("kill-server")
    assert_nothing_lost(report)
    assert_no_visible_errors(report)
    assert_everybody_answered_again(report, affected_only=True)
    assert report["recovery"]["server0 SIGKILL"]["affected_only"]["citizens_acked_again"] == CITIZENS // 2
    assert report["processes_alive_at_end"] == {"server1": True, "worker0": True}
    no_tracebacks(report)


def test_redis_restart_exams_continue_and_the_newer_connection_wins_across_processes():
    report = fault_run("redis-restart")
    assert_nothing_lost(report)
    assert_no_visible_errors(report)
    assert_everybody_answered_again(report)
    wins = report["newer_connection_wins"]
    assert wins["second_devices_opened"] == CITIZENS // 4, wins
    assert wins["older_closed_4001"] == wins["second_devices_opened"], wins
    assert (wins["both_live_after_15s"], wins["refused"]) == (0, 0), wins
    assert wins["audited"] == wins["second_devices_opened"], wins
    assert report["pushes_after_restart"]["received"] == report["pushes_after_restart"]["sent"] > 0
    assert report["fault"]["live_board_rebuilt_s_after_restart"] is not None
    assert report["live_board_after_submits"]["entries"] == CITIZENS
    assert all(report["processes_alive_at_end"].values()), report["processes_alive_at_end"]
    no_tracebacks(report)


def test_postgresql_restarted_and_stopped_acks_pause_then_resume_and_the_worker_rides_it_out():
    report = fault_run("postgres-restart")
    assert_nothing_lost(report)
    assert_no_visible_errors(report)
    assert_everybody_answered_again(report)
    health = report["health"]
    for path in ("/healthz", "/readyz"):
        assert (health[path]["not_json"], health[path]["traceback"]) == (0, 0), health
    assert "503 down" in health["/readyz"]["during_outage"], health
    assert "200 down" in health["/healthz"]["during_outage"], health
    offline = report["fault"]["offline_attempts_due_during_outage"]
    assert offline["finalised_after"] == offline["attempts"] == 3, offline
    assert offline["finished_at_their_deadline"] == 3, offline
    assert report["fault"]["worker_alive"]
    assert all(report["processes_alive_at_end"].values()), report["processes_alive_at_end"]
    no_tracebacks(report)  # the evidence flusher too (tests/realtime/test_evidence_outage.py)
    for name, lines in report["log_lines"].items():
        # Two outages: at most two "unavailable" lines per process, each followed by "available again".
        assert lines["unavailable"] <= 2, (name, lines)
        assert lines["available_again"] == lines["unavailable"], (name, lines)


def test_worker_killed_inside_the_official_ranking_ranks_it_exactly_once_afterwards():
    report = fault_run("worker-ranking")
    assert_nothing_lost(report)
    assert_no_visible_errors(report)
    assert "error" not in report["fault"], report["fault"]
    assert report["fault"]["after_kill"] == {"round_closed": True, "rankings": 0}
    ranking = report["fault"]["ranking"]
    assert (ranking["rankings"], ranking["versions"]) == (1, [1]), ranking
    assert (ranking["entry_count"], ranking["entries_stored"]) == ([CITIZENS], CITIZENS), ranking
    assert ranking["closed_once"]


def test_reconnect_storm_every_socket_drops_at_once_and_all_resume():
    report = fault_run("reconnect-storm")
    assert_nothing_lost(report)
    assert_no_visible_errors(report)
    assert_everybody_answered_again(report)
    storm = report["storm"]
    assert storm["sockets_dropped"] == CITIZENS, storm
    assert storm["reconnect_s"]["n"] >= CITIZENS, storm
    no_tracebacks(report)


def test_rolling_release_restarts_each_server_process_in_turn_and_loses_nothing():
    report = fault_run("rolling-release")
    assert_nothing_lost(report)
    assert_no_visible_errors(report)
    assert_everybody_answered_again(report, affected_only=True)
    assert len(report["recovery"]) == 2
    assert all(report["processes_alive_at_end"].values()), report["processes_alive_at_end"]
    no_tracebacks(report)


@pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces need root (ip netns add)")
def test_one_app_hosts_link_cut_its_citizens_continue_on_the_other_host():
    report = fault_run("network-hosts")
    assert_nothing_lost(report)
    assert_no_visible_errors(report)
    assert_everybody_answered_again(report, affected_only=True)
    assert report["clients"]["watchdog_aborts"] >= 1  # the cut host's sockets went silent, not closed
    assert report["processes_alive_at_end"]["server1"] is True
    no_tracebacks(report)  # the cut host's own failed flushes are outage lines (realtime/evidence.py)
