"""Signal receivers. A corrected question's options are dropped from the answer path's cache. Any change to a
round, a contest or the topic tree drops the cached reservation (the leak rule), at once and again after the
commit — a request that rebuilt it in between from the old rows would otherwise keep a stale rule for a minute."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete, post_save

from contests.models import Contest, Round
from practice.selectors import reservation_forget
from practice.services import options_forget
from questionbank.models import Topic
from questionbank.services.review import question_corrected


def _forget(**_kwargs: Any) -> None:
    reservation_forget()
    transaction.on_commit(reservation_forget)


def connect() -> None:
    question_corrected.connect(options_forget, dispatch_uid="practice-options-corrected")
    for model in (Round, Contest, Topic):
        post_save.connect(_forget, sender=model, dispatch_uid=f"practice-reservation-{model.__name__}-save")
        post_delete.connect(_forget, sender=model, dispatch_uid=f"practice-reservation-{model.__name__}-delete")
