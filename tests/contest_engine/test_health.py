"""/healthz and /readyz (contest_engine/health.py, issue 12): a key per dependency — the database, Redis, the
task queue — 503 when one is down, an answer within about a second whatever Redis does (stopped, hung), and no
new connection per probe. Against a Redis of the test's own (tests/services.py), stopped, frozen and started
again; PostgreSQL's outage is test_server_outage.py's."""

from __future__ import annotations

import datetime as dt
import os
import signal
import time

import pytest
import redis as redis_client
from django.db import connection
from django.test import override_settings
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from contest_engine import health
from tests.outage_tasks import slow_task
from tests.services import ThrowawayRedis

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def redis():
    server = ThrowawayRedis()
    server.start()
    try:
        with override_settings(REDIS_URL=server.url):
            yield server
    finally:
        health.redis_clients_reset()
        server.cleanup()
        health.redis_state()  # the shared Redis again: the process's redis_outage ends for the next tests


def probe(client, path: str = "/readyz") -> tuple[int, dict, float]:
    started = time.monotonic()
    response = client.get(path)
    return response.status_code, response.json(), time.monotonic() - started


def test_ready_with_a_key_per_dependency(client, redis):
    status, body, _ = probe(client)
    assert (status, body) == (200, {"status": "ready", "database": "up", "redis": "up", "tasks": "up"})
    status, body, _ = probe(client, "/healthz")
    assert (status, body) == (200, {"status": "ok", "database": "up"})


def test_redis_stopped_is_503_and_back_is_200_at_the_first_probe(client, redis):
    assert probe(client)[0] == 200
    redis.stop(kill=True)
    status, body, took = probe(client)
    assert (status, body) == (503, {"status": "unavailable", "database": "up", "redis": "down", "tasks": "up"})
    assert took < 1.5
    # Liveness does not care: restarting processes would not bring Redis back.
    assert probe(client, "/healthz")[0] == 200
    redis.start()
    # The probe's pooled connection went stale with the restart: its one retry on a fresh connection answers.
    status, body, _ = probe(client)
    assert (status, body["redis"]) == (200, "up")


def test_a_hung_redis_is_down_within_about_a_second(client, redis):
    assert probe(client)[0] == 200
    os.kill(redis.proc.pid, signal.SIGSTOP)  # accepts connections (the kernel's backlog), never answers
    try:
        status, body, took = probe(client)
    finally:
        os.kill(redis.proc.pid, signal.SIGCONT)
    assert (status, body["redis"]) == (503, "down")
    assert took < 2.0, took  # two tries of REDIS_PROBE_TIMEOUT_SECONDS, not redis-py's default retries


def test_probes_reuse_their_connections(client, redis):
    probe(client)
    stats = redis_client.Redis.from_url(redis.url)
    before = int(stats.info("stats")["total_connections_received"])
    pool = connection.pool  # the pooled backend of the test settings
    db_before = pool.get_stats().get("connections_num", 0)
    for _ in range(30):
        assert probe(client)[0] == 200
    assert int(stats.info("stats")["total_connections_received"]) == before  # ``stats`` connected before
    assert pool.get_stats().get("connections_num", 0) == db_before
    stats.close()


def test_a_task_waiting_long_for_a_worker_is_stalled_but_ready(client, redis, settings):
    settings.READYZ_TASK_STALL_SECONDS = 60
    result = slow_task.enqueue(seconds=0)
    assert probe(client)[1]["tasks"] == "up"
    DBTaskResult.objects.filter(pk=result.id).update(enqueued_at=timezone.now() - dt.timedelta(seconds=61))
    status, body, _ = probe(client)
    assert (status, body["tasks"]) == (200, "stalled")
    # A task due later does not count before its time.
    DBTaskResult.objects.filter(pk=result.id).update(run_after=timezone.now() + dt.timedelta(hours=1))
    assert probe(client)[1]["tasks"] == "up"
    DBTaskResult.objects.filter(pk=result.id).delete()


def test_without_redis_and_with_another_tasks_backend_the_keys_say_unused(client, settings):
    settings.REDIS_URL = ""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    status, body, _ = probe(client)
    assert (status, body) == (200, {"status": "ready", "database": "up", "redis": "unused", "tasks": "unused"})
