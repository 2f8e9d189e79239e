"""contest_engine/postgresql: the two connection pools of a process, and a busy pool told from a lost database
(issue 19, point 1). The server-level checks (budget under load, coming back down) are in
test_connection_budget.py; the outage ones in test_server_outage.py and test_worker_outage.py."""

from __future__ import annotations

import copy
import threading

import psycopg
import pytest
from django.db import OperationalError, connection, connections
from psycopg_pool import PoolTimeout

from contest_engine.dbpools import use_exam_pool
from contest_engine.outages import is_database_busy, is_database_unavailable
from contest_engine.postgresql.base import DatabaseWrapper
from tests.services import free_port


def wrapped(error: Exception) -> OperationalError:
    try:
        raise OperationalError(str(error)) from error
    except OperationalError as exc:
        return exc


def test_a_pool_timeout_is_load_not_an_outage():
    busy = wrapped(PoolTimeout("couldn't get a connection after 10.00 sec"))
    assert is_database_busy(busy)
    assert not is_database_unavailable(busy)
    lost = wrapped(psycopg.OperationalError("connection refused"))
    assert is_database_unavailable(lost)
    assert not is_database_busy(lost)


def test_the_production_settings_pool_without_persistent_connections():
    from contest_engine import settings as production

    database = production.DATABASES["default"]
    assert database["ENGINE"] == "contest_engine.postgresql"
    assert database["CONN_MAX_AGE"] == 0
    assert database["OPTIONS"]["pool"]["max_size"] == production.DATABASE_POOL_MAX
    assert database["OPTIONS"]["exam_pool"]["max_size"] == production.DATABASE_EXAM_POOL_MAX


def in_thread(func, *, exam: bool):
    """``func()`` in a new thread (marked for the exam pool or not); its result or exception."""
    out: dict = {}

    def run() -> None:
        if exam:
            use_exam_pool()
        try:
            out["result"] = func()
        except Exception as exc:
            out["error"] = exc
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=60)
    if "error" in out:
        raise out["error"]
    return out["result"]


@pytest.mark.django_db(transaction=True)
def test_exam_threads_take_connections_from_the_exam_pool_and_others_from_the_page_pool():
    def which() -> str:
        connection.ensure_connection()
        return connection.connection._pool.name

    page_pool = in_thread(which, exam=False)
    exam_pool = in_thread(which, exam=True)
    assert exam_pool == "exam"
    assert page_pool != "exam"


def private_wrapper(alias: str, **changes) -> DatabaseWrapper:
    """A wrapper of its own alias (so its pools are its own), with a small page pool."""
    settings_dict = copy.deepcopy(connections["default"].settings_dict)
    settings_dict["OPTIONS"]["pool"] = {"min_size": 0, "max_size": 1, "timeout": 0.5}
    settings_dict.update(changes)
    return DatabaseWrapper(settings_dict, alias=alias)


@pytest.mark.django_db(transaction=True)
def test_a_pool_with_every_connection_busy_raises_busy_not_an_outage():
    holder, waiter = private_wrapper("busy"), private_wrapper("busy")  # one alias: one pool of one connection
    try:
        holder.ensure_connection()  # takes the pool's only connection
        with pytest.raises(OperationalError) as raised:
            waiter.ensure_connection()
        assert is_database_busy(raised.value)
        assert not is_database_unavailable(raised.value)
    finally:
        holder.close()
        waiter.close()
        waiter.close_pool()


@pytest.mark.django_db(transaction=True)
def test_a_pool_that_cannot_connect_raises_the_connection_error_an_outage():
    nobody = private_wrapper("nobody", HOST="127.0.0.1", PORT=str(free_port()))
    try:
        with pytest.raises(OperationalError) as raised:
            nobody.ensure_connection()
        assert is_database_unavailable(raised.value)
        assert not is_database_busy(raised.value)
    finally:
        nobody.close_pool()


@pytest.mark.django_db(transaction=True)
def test_the_health_check_does_not_wait_the_pools_timeout_for_a_busy_pool():
    """/healthz and /readyz answer within about a second (a probe client gives up after a few): with every
    connection of a 30-s pool busy until 5 s from now, the health check says busy at once instead of waiting
    its turn (it would get the connection at 5 s and say nothing was wrong)."""
    checker = private_wrapper("health-busy")
    checker.settings_dict["OPTIONS"]["pool"]["timeout"] = 30
    pool = checker.pool
    try:
        pool.open()
        held = pool.getconn()  # the pool's only connection
        release = threading.Timer(5, pool.putconn, [held])
        release.start()
        try:
            with pytest.raises(PoolTimeout) as raised:
                checker.health_check()
            assert is_database_busy(raised.value)
        finally:
            release.join()
        checker.health_check()  # the connection is back: the same check passes
    finally:
        checker.close_pool()


@pytest.mark.django_db(transaction=True)
def test_the_health_check_of_an_unreachable_database_raises_the_connection_error():
    nobody = private_wrapper("health-nobody", HOST="127.0.0.1", PORT=str(free_port()))
    nobody.settings_dict["OPTIONS"]["pool"]["timeout"] = 30
    try:
        with pytest.raises(psycopg.OperationalError) as raised:
            nobody.health_check()
        assert is_database_unavailable(raised.value)
        assert not is_database_busy(raised.value)
    finally:
        nobody.close_pool()
