"""Anonymise the personal data of contests past their retention — or, with --dry-run, report what is due."""

from __future__ import annotations

import json
from dataclasses import asdict

from django.core.management.base import BaseCommand

from retention.services import retention_run


class Command(BaseCommand):
    help = ("Anonymise registrations, essay texts and complaints of contests whose personal_data_retention_days "
            "after the last round have passed (the worker does this every hour). --dry-run only reports.")

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Report the contests and counts; change nothing.")
        parser.add_argument("--json", action="store_true", help="One JSON object per contest.")

    def handle(self, *args, **options):
        report = retention_run(dry_run=options["dry_run"])
        verb = "due" if options["dry_run"] else "anonymised"
        for item in report:
            if options["json"]:
                self.stdout.write(json.dumps({**asdict(item), "dry_run": options["dry_run"]}, default=str,
                                             ensure_ascii=False))
            else:
                self.stdout.write(f"contest {item.contest_id} ({item.title}): ended {item.ended_at:%Y-%m-%d}, "
                                  f"{item.retention_days} days → {verb}: {item.registrations} registrations, "
                                  f"{item.essays} essays, {item.complaints} complaints, "
                                  f"{item.live_players} live players")
        total = sum(item.registrations for item in report)
        self.stdout.write(f"{len(report)} contest(s) {verb}, {total} registration(s)"
                          + (" (dry run: nothing changed)" if options["dry_run"] else ""))
