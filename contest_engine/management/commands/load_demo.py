"""Load the demo data of every app (contest_engine.demo registry). Safe to run again."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db import transaction

from contest_engine.demo import demo_loaders


class Command(BaseCommand):
    help = "Create or update demo organisations, accounts and each app's demo data; prints demo logins."

    def handle(self, *args, **options):
        loaders = demo_loaders()
        for loader in loaders:
            self.stdout.write(self.style.MIGRATE_HEADING(f"Demo data: {loader.name}"))
            with transaction.atomic():
                loader.func(self.stdout)
        self.stdout.write(self.style.SUCCESS(f"Demo data loaded ({len(loaders)} loaders). "
                                             "Log in at /accounts/login/ or /admin/ with the accounts above."))
