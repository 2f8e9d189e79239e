"""Signal receivers: any change to a round, a contest or the topic tree drops the cached reservation (the leak
rule), at once and again after the commit — a request that rebuilt it in between from the old rows would
otherwise keep a stale rule for a minute."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete, post_save

from contests.models import Contest, Round
from practice.selectors import reservation_forget
from questionbank.models import Topic


def _forget(**_kwargs: Any) -> None:
    reservation_forget()
    transaction.on_commit(reservation_forget)


def connect() -> None:
    for model in (Round, Contest, Topic):
        post_save.connect(_forget, sender=model, dispatch_uid=f"practice-reservation-{model.__name__}-save")
        post_delete.connect(_forget, sender=model, dispatch_uid=f"practice-reservation-{model.__name__}-delete")
