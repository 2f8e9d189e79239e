"""Load the demo data of every app (contest_engine.demo registry). Safe to run again."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from contest_engine.demo import demo_loaders


class Command(BaseCommand):
    help = "Create or update demo organisations, accounts and each app's demo data; prints demo logins."

    def add_arguments(self, parser):
        parser.add_argument("--allow-production", action="store_true",
                            help="Load even though a real SECRET_KEY is set (a staging copy, never production).")

    def handle(self, *args, **options):
        # The demo creates a superuser whose password is printed and published in the README.
        embedded = settings.DEBUG or getattr(settings, "EMBEDDED_SECRET_KEY", None) == settings.SECRET_KEY
        if not embedded and not options["allow_production"]:
            raise CommandError("Refusing to load demo data (a superuser with a published password) on a "
                               "production-like install (a real SECRET_KEY is set). Use --allow-production "
                               "for a throw-away staging copy.")
        loaders = demo_loaders()
        for loader in loaders:
            self.stdout.write(self.style.MIGRATE_HEADING(f"Demo data: {loader.name}"))
            with transaction.atomic():
                loader.func(self.stdout)
        self.stdout.write(self.style.SUCCESS(f"Demo data loaded ({len(loaders)} loaders). "
                                             "Log in at /accounts/login/ or /admin/ with the accounts above."))
