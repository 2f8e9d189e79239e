"""Fixtures for leaderboards: rounds with directly created finished attempts, both live-board backends."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.conf import settings
from django.utils import timezone

from contests.models import Attempt, AttemptStatus, Registration
from leaderboards.services import boards
from tests.contests.factories import ContestFactory, RoundFactory
from tests.factories import CitizenProfileFactory, OrganisationFactory

T0 = dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC)


def redis_board() -> boards.RedisBoard:
    return boards.RedisBoard(settings.REDIS_URL, f"{settings.REDIS_PREFIX}-t")


def clear_redis(board: boards.RedisBoard) -> None:
    keys = list(board.redis.scan_iter(match=f"{board.prefix}:*", count=1000))
    if keys:
        board.redis.delete(*keys)


@pytest.fixture(autouse=True)
def _no_page_cache(settings):
    """Tests read the board right after changing it: no cached pages (tested on its own)."""
    settings.LEADERBOARD_TOP_CACHE_SECONDS = 0


@pytest.fixture(autouse=True)
def _no_pushes_across_tests():
    """Pushes scheduled by one test must not fire into the next (round ids repeat on SQLite)."""
    from leaderboards.services import unit_push
    from leaderboards.services.live import cancel_pending_pushes

    cancel_pending_pushes()
    unit_push.cancel_pending_pushes()
    yield
    cancel_pending_pushes()
    unit_push.cancel_pending_pushes()


@pytest.fixture
def redis_lb():
    """The project's Redis board on this test run's own key prefix; its keys are deleted afterwards
    (never FLUSHDB/FLUSHALL: the Redis server is shared)."""
    board = redis_board()
    clear_redis(board)
    boards.set_board(board)
    yield board
    clear_redis(board)
    boards.set_board(None)


@pytest.fixture
def memory_lb():
    board = boards.MemoryBoard()
    boards.set_board(board)
    yield board
    boards.set_board(None)


@pytest.fixture(params=["redis", "memory"])
def any_lb(request):
    if request.param == "redis":
        board = redis_board()
        clear_redis(board)
    else:
        board = boards.MemoryBoard()
    boards.set_board(board)
    yield board
    if request.param == "redis":
        clear_redis(board)
    boards.set_board(None)


@pytest.fixture
def lb_round(org_a):
    """An organisation's contest with one round that opened a day ago and closed an hour ago."""
    now = timezone.now()
    contest = ContestFactory(organisation=org_a, max_attempts=None, counted_attempt="best",
                             prediction_target_kind="perfect_attempts", one_prize_per_person=True)
    return RoundFactory(contest=contest, opens_at=now - dt.timedelta(days=1), closes_at=now - dt.timedelta(hours=1))


class People:
    """Makes registrations and finished attempts without going through the exam (fast, exact values)."""

    def __init__(self, round) -> None:
        self.round = round
        self.units = [OrganisationFactory(registered_population=100), OrganisationFactory()]
        self.regs: dict[int, Registration] = {}

    def registration(self, index: int, unit: int | None = None) -> Registration:
        if index not in self.regs:
            unit_obj = self.units[(unit if unit is not None else index) % len(self.units)]
            user = CitizenProfileFactory(unit=unit_obj).user
            self.regs[index] = Registration.objects.create(user=user, contest=self.round.contest, unit=unit_obj,
                                                           full_name=f"Nguyễn Văn Thí Sinh {index}",
                                                           date_of_birth=dt.date(1990, 1, 1))
        return self.regs[index]

    def attempt(self, person: int, *, score="5", duration_ms: int = 60_000, submitted: float = 0,
                prediction: int | None = None, correct: int | None = None, questions: int = 5,
                status: str = AttemptStatus.SUBMITTED, round=None, unit: int | None = None) -> Attempt:
        reg = self.registration(person, unit)
        round = round or self.round
        number = Attempt.objects.filter(registration=reg, round=round).count() + 1
        submitted_at = T0 + dt.timedelta(seconds=submitted)
        started = submitted_at - dt.timedelta(milliseconds=duration_ms)
        score = Decimal(str(score))
        return Attempt.objects.create(
            round=round, registration=reg, user=reg.user, unit=reg.unit, number=number, status=status,
            started_at=started, deadline=started + dt.timedelta(minutes=15), submitted_at=submitted_at,
            submit_kind="client", score=score, correct_count=correct if correct is not None else int(score),
            question_count=questions, duration_ms=duration_ms, prediction=prediction)


@pytest.fixture
def people(lb_round):
    return People(lb_round)


@pytest.fixture(scope="session", autouse=True)
def _close_socket_thread_connections(django_db_setup, django_db_blocker):
    """Channels runs each socket's sync calls (session auth) in a thread of its own, and ``sync_to_async``
    calls share asgiref's sync thread; their connections (checked out of the pool) would outlive the tests and block
    dropping the test database. At the very end, the main thread ends every other session of that database."""
    yield
    from asgiref.sync import SyncToAsync
    from django.db import connection, connections

    SyncToAsync.single_thread_executor.submit(connections.close_all).result(timeout=10)
    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() "
                       "AND pid <> pg_backend_pid()")
