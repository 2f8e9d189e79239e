"""Blind grading: while a round's essays are being graded, its judges must not be able to tell whose essay is
whose, nor see the marks other judges gave. Every place that shows names next to attempts or scores asks
here first (the attempt admin, leaderboards' staff views, exports, the judging pages).

The rule "grading is still open for this round" belongs to the judging app, which sits above contests: it
registers a provider (``register_blind_rounds``) in its ``AppConfig.ready``, as it does for essay marks
(``contests.scoring.register_essay_marks``). Without a provider nothing is ever blind.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from accounts.models import Role
from accounts.tenancy import organisation_ids_for
from contests.models import Round

BlindRoundsProvider = Callable[[list[int]], set[int]]
_providers: list[BlindRoundsProvider] = []


def register_blind_rounds(provider: BlindRoundsProvider) -> BlindRoundsProvider:
    """``provider(round_ids)`` returns the ids among ``round_ids`` whose grading is still open."""
    if provider not in _providers:
        _providers.append(provider)
    return provider


def rounds_under_blind_grading(round_ids: Iterable[int]) -> set[int]:
    ids = sorted({int(pk) for pk in round_ids})
    blind: set[int] = set()
    if not ids:
        return blind
    for provider in _providers:
        blind |= provider(ids)
    return blind


def _blindable_organisations(user: Any) -> set[int]:
    """Organisations where ``user`` judges without organising. An organiser administers the contest (names,
    registrations, attempts) and cannot be kept blind; a person holding both roles is not blinded — the
    judging page tells them so, and panels keep the roles apart (docs/judging.md)."""
    if getattr(user, "is_superuser", False) or not getattr(user, "is_authenticated", False):
        return set()
    return organisation_ids_for(user, [Role.JUDGE]) - organisation_ids_for(user, [Role.ORGANISER])


def judge_is_blinded(user: Any, round: Any) -> bool:
    """True when ``user`` judges (and does not organise) in the organisation owning ``round`` (a Round with
    ``contest`` loaded) and the round's grading is open. Superusers are never blinded."""
    if round.contest.organisation_id not in _blindable_organisations(user):
        return False
    return round.pk in rounds_under_blind_grading([round.pk])


def blinded_rounds_for(user: Any) -> set[int]:
    """Every round hidden from ``user`` now: the rounds under blind grading of the organisations where
    ``user`` judges without organising (empty for superusers and for everyone else)."""
    judge_orgs = _blindable_organisations(user)
    if not judge_orgs or not _providers:
        return set()
    return rounds_under_blind_grading(
        Round.objects.filter(contest__organisation__in=judge_orgs).values_list("pk", flat=True))
