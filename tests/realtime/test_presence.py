"""Presence claims: the newest connection (by the stamp of its connect) wins, whatever order the claims reach
Redis in, and a process's check re-establishes claims that Redis lost (realtime/presence.py)."""

from __future__ import annotations

import itertools

import pytest

from realtime import presence
from realtime.presence import Claim

_ids = itertools.count(9_000_000)


@pytest.fixture(params=["redis", "local"])
def backend(request, monkeypatch):
    if request.param == "local":
        monkeypatch.setattr(presence, "_redis_client", lambda: None)
    else:
        assert presence._redis_client() is not None, "the test settings use Redis"
    return request.param


def forget(attempt_id: int) -> None:
    """What a Redis restart does to a claim."""
    client = presence._redis_client()
    if client is not None:
        client.delete(presence._key(attempt_id))
    presence._local.pop(attempt_id, None)


def test_the_newer_connection_wins_in_either_order(backend):
    attempt = next(_ids)
    assert presence.connection_claim_many([(attempt, "old", 100)]) == [Claim()]
    assert presence.connection_claim_many([(attempt, "new", 200)]) == [Claim(previous="old")]
    # A claim stamped earlier that arrives later (a slower process) loses and learns who holds the attempt.
    assert presence.connection_claim_many([(attempt, "late-old", 150)]) == [Claim(newer="new")]
    assert presence.connection_claim(attempt_id=attempt, token="new", stamp=200) == ""  # the same: nothing


def test_a_check_re_establishes_lost_claims_and_says_who_steps_aside(backend):
    attempt, other = next(_ids), next(_ids)
    presence.connection_claim_many([(attempt, "a-old", 100), (other, "b", 100)])
    assert presence.connection_check_many([(attempt, "a-old", 100), (other, "b", 100)]) == [Claim(), Claim()]
    forget(attempt)
    forget(other)
    # After the "restart" a newer connection claims attempt first; the older one's process checks afterwards.
    presence.connection_claim_many([(attempt, "a-new", 300)])
    checked = presence.connection_check_many([(attempt, "a-old", 100), (other, "b", 100)])
    assert checked == [Claim(newer="a-new"), Claim()]  # the old one steps aside; b's claim is made again
    assert presence.connection_check_many([(other, "b", 100)]) == [Claim()]


def test_a_claim_of_the_previous_release_is_replaced(backend):
    attempt = next(_ids)
    client = presence._redis_client()
    if client is not None:
        client.set(presence._key(attempt), "specific.bare-channel")
    else:
        presence._local[attempt] = "specific.bare-channel"
    assert presence.connection_claim_many([(attempt, "new", 5)]) == [Claim(previous="specific.bare-channel")]


def test_release_forgets_only_its_own_claim(backend):
    attempt = next(_ids)
    presence.connection_claim_many([(attempt, "mine", 10)])
    presence.connection_release(attempt_id=attempt, token="someone-else")
    assert presence.connection_claim_many([(attempt, "next", 20)]) == [Claim(previous="mine")]
    presence.connection_release(attempt_id=attempt, token="next")
    assert presence.connection_claim_many([(attempt, "third", 30)]) == [Claim()]
