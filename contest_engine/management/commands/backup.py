"""Take a backup: the database (pg_dump), both media folders and a manifest of checksums (contest_engine/backups.py)."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from contest_engine.backups import BackupError, backup_create, backups_prune


class Command(BaseCommand):
    help = "Dump the database and archive MEDIA_ROOT and PRIVATE_MEDIA_ROOT into a new folder under --to."

    def add_arguments(self, parser):
        parser.add_argument("--to", type=Path, default=None, help="Folder of the backups (default BACKUP_ROOT).")
        parser.add_argument("--keep", type=int, default=0,
                            help="Afterwards delete all but this many newest backups there (0: keep all).")

    def handle(self, *args, **options):
        destination = options["to"] or Path(settings.BACKUP_ROOT)
        try:
            backup = backup_create(destination=destination)
            removed = backups_prune(destination=destination, keep=options["keep"]) if options["keep"] else []
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        files = backup.manifest["files"]
        self.stdout.write(f"backup {backup.path}: " + ", ".join(f"{name} {info['bytes']} B"
                                                               for name, info in files.items()))
        for folder in removed:
            self.stdout.write(f"removed the older backup {folder}")
