"""``python manage.py rebuild_leaderboards [--round ID]``: rebuild live boards from the database."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from contests.models import Round
from leaderboards.services.live import leaderboard_rebuild


class Command(BaseCommand):
    help = "Rebuild the live leaderboards (Redis or in-process) from the database."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--round", type=int, dest="round_id", help="Only this round (default: open rounds).")
        parser.add_argument("--all", action="store_true", dest="all_rounds", help="Every round, including closed ones.")

    def handle(self, *args: Any, round_id: int | None = None, all_rounds: bool = False, **options: Any) -> None:
        rounds = Round.objects.select_related("contest").order_by("pk")
        if round_id is not None:
            rounds = rounds.filter(pk=round_id)
            if not rounds.exists():
                raise CommandError(f"Round {round_id} does not exist.")
        elif not all_rounds:
            rounds = rounds.filter(opens_at__lte=timezone.now(), closed_at__isnull=True)
        for round in rounds:
            started = time.perf_counter()
            total = leaderboard_rebuild(round=round)
            self.stdout.write(f"round {round.pk}: {total} entries in {time.perf_counter() - started:.2f}s")
