"""Contest-level writes: cloning and the official close of a round (prediction target)."""

from __future__ import annotations

import datetime as dt
from calendar import monthrange
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import Role
from accounts.tenancy import require_role
from contest_engine.text import slugify_vi
from contests import errors
from contests.models import INHERITED_FIELDS, Contest, ContestVisibility, Round
from contests.selectors import round_prediction_target
from contests.services._common import audit, resolve_now
from contests.services.attempts.finish import attempts_sweep_expired, round_attempts_finalise

ROUND_COPY_EXCLUDE = {"id", "contest", "extended_until", "closed_at", "prediction_target_value", "created_at"}
# personal_data_erased_at: a copy (next year's edition) has its own personal data and its own retention run.
CONTEST_COPY_EXCLUDE = {"id", "slug", "title", "visibility", "created_at", "updated_at", "allowed_units",
                        "personal_data_erased_at"}


def contest_slug_for(title: str, *, exclude_pk: int | None = None) -> str:
    """A free address for a contest titled ``title``: its transliterated slug ("tim-hieu-luat-giao-thong-duong-
    bo-2026"), with "-2", "-3"… when taken."""
    base = slugify_vi(title, max_length=80) or "cuoc-thi"
    candidate, n = base, 2
    while Contest.objects.filter(slug=candidate).exclude(pk=exclude_pk).exists():
        candidate, n = f"{base}-{n}", n + 1
    return candidate


def shift_months(moment: dt.datetime, months: int) -> dt.datetime:
    """The same local wall-clock time ``months`` calendar months later (12 = a year): 31 Jan + 1 month is
    28/29 Feb, 29 Feb + 1 year is 28 Feb. Done in the local time zone, so 08:00 stays 08:00."""
    if not months:
        return moment
    local = timezone.localtime(moment)
    index = local.year * 12 + (local.month - 1) + months
    year, month = divmod(index, 12)
    day = min(local.day, monthrange(year, month + 1)[1])
    naive = local.replace(tzinfo=None, year=year, month=month + 1, day=day)
    return timezone.make_aware(naive, timezone.get_current_timezone())


def contest_clone(*, actor: Any, contest: Contest, title: str | None = None, shift: dt.timedelta | None = None,
                  months: int = 0, round_ids: Iterable[int] | None = None, copy_units: bool = True,
                  copy_rules: bool = True, copy_round_settings: bool = True,
                  now: dt.datetime | None = None) -> Contest:
    """Copy ``contest`` as a new draft in the same organisation (e.g. next year's edition).

    ``months`` moves every round's window by calendar months (12 = "+1 năm"), then ``shift`` by a duration;
    ``round_ids`` picks the rounds to copy (None: all); ``copy_units`` the eligibility list, ``copy_rules``
    the rules text (thể lệ) and summary, ``copy_round_settings`` each round's own settings (otherwise the
    copied rounds inherit the contest's). The contest's default settings are always copied. The slug is the
    new title transliterated (``contest_slug_for``). No registrations or attempts are copied. Audited."""
    resolve_now(now)
    require_role(actor, contest.organisation_id, [Role.ORGANISER])
    shift = shift or dt.timedelta(0)
    wanted = None if round_ids is None else {int(pk) for pk in round_ids}
    with transaction.atomic():
        values = {f.name: getattr(contest, f.name) for f in Contest._meta.concrete_fields
                  if f.name not in CONTEST_COPY_EXCLUDE}
        values["organisation_id"] = contest.organisation_id
        values.pop("organisation", None)
        if not copy_rules:
            values["rules_text"], values["summary"] = "", ""
        new_title = (title or "").strip() or f"{contest.title} (bản sao)"
        copy = Contest.objects.create(title=new_title, slug=contest_slug_for(new_title),
                                      visibility=ContestVisibility.DRAFT, **values)
        if copy_units:
            copy.allowed_units.set(contest.allowed_units.all())
        copied = []
        for round in contest.rounds.all():
            if wanted is not None and round.pk not in wanted:
                continue
            data = {f.attname: getattr(round, f.attname) for f in Round._meta.concrete_fields
                    if f.name not in ROUND_COPY_EXCLUDE}
            if not copy_round_settings:
                data.update(dict.fromkeys(INHERITED_FIELDS))
            data["opens_at"] = shift_months(round.opens_at, months) + shift
            data["closes_at"] = shift_months(round.closes_at, months) + shift
            copied.append(Round.objects.create(contest=copy, **data).pk)
        audit(actor=actor, action="contests.contest_cloned", target=copy, organisation=contest.organisation_id,
              data={"source_id": contest.pk, "rounds": len(copied), "months": months,
                    "shift_seconds": int(shift.total_seconds()), "units": copy_units, "rules": copy_rules,
                    "round_settings": copy_round_settings})
    return copy


def round_accepting_until(round: Round) -> dt.datetime:
    """The last moment anything of ``round`` can still be accepted: its (extended) close plus the network
    grace (every attempt's deadline is ≤ the close, and answers and submits are taken until deadline +
    grace)."""
    return round.effective_closes_at + round.settings.grace


def round_close(*, round: Round, now: dt.datetime | None = None, actor: Any = None) -> Round:
    """Officially close a round after its (extended) close: finish what is still in progress, compute and
    store the prediction target, set ``closed_at``. Idempotent. (The official ranking builds on this.)

    Nothing that can still be accepted is left out: the close waits until the grace after the close has
    passed (before that, ``RoundStillAccepting``; ``RoundNotOpen`` before the close itself), and every attempt
    still in progress is finished in the transaction that computes the target — waiting for, not skipping,
    an answer batch that holds one, so the answers it commits count in the score and in the target."""
    now = resolve_now(now)
    round = Round.objects.select_related("contest").get(pk=round.pk)
    if not round.has_closed(now):
        raise errors.RoundNotOpen()
    if round.closed_at is not None:
        return round
    if now <= round_accepting_until(round):
        raise errors.RoundStillAccepting()
    # The bulk first, in batches that skip what live batches hold (each batch its own transaction) …
    attempts_sweep_expired(now=now, batch=100_000)
    with transaction.atomic():
        round = Round.objects.select_for_update(of=("self",)).select_related("contest").get(pk=round.pk)
        if round.closed_at is None:
            # … then whatever is left, waiting for its row lock, in the transaction that counts the target.
            round_attempts_finalise(round=round, now=now)
            round.prediction_target_value = round_prediction_target(round=round)
            round.closed_at = now
            round.save(update_fields=["prediction_target_value", "closed_at"])
            audit(actor=actor, action="contests.round_closed", target=round,
                  organisation=round.contest.organisation_id,
                  data={"prediction_target_value": round.prediction_target_value})
    return round


def round_results_changed(*, round_ids: Iterable[int]) -> None:
    """Record that something the official ranking of these rounds is computed from has changed (an essay's
    final mark, a rescore, a disqualification, a reopening): ``results_revision`` + 1, in the caller's
    transaction. Call it last in the transaction: it takes the round row's lock, which the ranking
    computation also holds while it reads, so a ranking never misses a change it did not see."""
    ids = sorted({int(pk) for pk in round_ids})
    if ids:
        Round.objects.filter(pk__in=ids).update(results_revision=F("results_revision") + 1)
