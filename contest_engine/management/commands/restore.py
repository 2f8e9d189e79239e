"""Restore a backup into a fresh database and empty media folders (the restore drill, docs/operations.md)."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from contest_engine.backups import BackupError, backup_restore, backup_verify


class Command(BaseCommand):
    help = ("Restore a backup folder (manage.py backup) into the database of DATABASE_URL, which must have no "
            "tables, and into MEDIA_ROOT and PRIVATE_MEDIA_ROOT, which must be empty.")

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path, help="The backup folder (with manifest.json).")
        parser.add_argument("--no-media", action="store_true", help="Restore the database only.")
        parser.add_argument("--verify-only", action="store_true", help="Only check the files' checksums.")

    def handle(self, *args, **options):
        try:
            if options["verify_only"]:
                manifest = backup_verify(path=options["path"])
                self.stdout.write(f"backup {options['path']} is complete ({len(manifest['files'])} files)")
                return
            restored = backup_restore(path=options["path"], media=not options["no_media"])
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write("restored " + json.dumps(restored, ensure_ascii=False))
