"""Backups and the restore drill: PostgreSQL (``pg_dump -Fc``) with the public and private media folders, in one
folder with a manifest of checksums; a restore into a fresh database and empty media folders.

A backup ``<destination>/<UTC timestamp>/`` holds

    database.dump           pg_dump's custom format (compressed; pg_restore can restore one table from it)
    media.tar.gz            MEDIA_ROOT (question images and audio)
    private-media.tar.gz    PRIVATE_MEDIA_ROOT (result exports with personal data)
    manifest.json           what was dumped, when, by which pg_dump, the SHA-256 and size of each file, the last
                            migration of each app

The folder is created ``0700`` and every file ``0600``: a dump is every citizen's personal data (Law 91/2025).
Restore checks every checksum first, refuses a database that already has tables and media folders that are not
empty (a drill must never overwrite the production copy), and runs ``pg_restore --exit-on-error`` in one
transaction: it succeeds entirely or leaves the target as it was.

Only the ``FileSystemStorage`` folders are archived; media kept in an object store (``MEDIA_STORAGE_BACKEND``)
is backed up by the store's own versioning (docs/operations.md, "Backups").

This module imports no app (contest_engine infrastructure, docs/architecture.md).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection

DATABASE_FILE = "database.dump"
MEDIA_ARCHIVES = {"media": "media.tar.gz", "private_media": "private-media.tar.gz"}
MANIFEST = "manifest.json"


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why."""


@dataclass(frozen=True)
class Backup:
    path: Path
    manifest: dict[str, Any]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def database_url() -> str:
    """A libpq connection URI for the default database (pg_dump and pg_restore take it as ``--dbname``)."""
    db = settings.DATABASES["default"]
    if not db["ENGINE"].endswith("postgresql"):
        raise BackupError("Backups need PostgreSQL (DATABASE_URL); the embedded SQLite file is copied as a file.")
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgresql://{user}{password}@{host}{port}/{db['NAME']}"


def _run(command: list[str], *, what: str) -> str:
    try:
        result = subprocess.run(command, check=False, capture_output=True, text=True)  # noqa: S603 — fixed argv
    except FileNotFoundError as exc:
        raise BackupError(f"{what}: {command[0]} not found (apt-get install postgresql-client)") from exc
    if result.returncode != 0:
        raise BackupError(f"{what} failed ({result.returncode}): {result.stderr.strip()[-2000:]}")
    return result.stdout


def _media_roots() -> dict[str, Path]:
    return {"media": Path(settings.MEDIA_ROOT), "private_media": Path(settings.PRIVATE_MEDIA_ROOT)}


def _migration_heads() -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT app, max(name) FROM django_migrations GROUP BY app ORDER BY app")
        return dict(cursor.fetchall())


def backup_create(*, destination: Path, now: dt.datetime | None = None) -> Backup:
    """Dump the database and archive both media folders into a new folder under ``destination``."""
    now = now or dt.datetime.now(dt.UTC)
    url = database_url()
    folder = Path(destination) / now.strftime("%Y%m%dT%H%M%SZ")
    folder.mkdir(parents=True, mode=0o700, exist_ok=False)
    os.chmod(folder, 0o700)
    old_umask = os.umask(0o077)
    try:
        dump = folder / DATABASE_FILE
        _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--file={dump}", f"--dbname={url}"],
             what="pg_dump")
        files = {DATABASE_FILE: dump}
        media: dict[str, Any] = {}
        for key, root in _media_roots().items():
            archive = folder / MEDIA_ARCHIVES[key]
            count = 0
            with tarfile.open(archive, "w:gz") as tar:
                if root.is_dir():
                    for path in sorted(root.rglob("*")):
                        if path.is_file() and not path.is_symlink():
                            tar.add(path, arcname=str(path.relative_to(root)), recursive=False)
                            count += 1
            files[MEDIA_ARCHIVES[key]] = archive
            media[key] = {"root": str(root), "files": count}
        manifest = {
            "format": 1,
            "created_at": now.isoformat(),
            "database": settings.DATABASES["default"]["NAME"],
            "pg_dump": _run(["pg_dump", "--version"], what="pg_dump --version").strip(),
            "migrations": _migration_heads(),
            "media": media,
            "files": {name: {"sha256": _sha256(path), "bytes": path.stat().st_size} for name, path in files.items()},
        }
        (folder / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
    finally:
        os.umask(old_umask)
    return Backup(folder, manifest)


def backup_verify(*, path: Path) -> dict[str, Any]:
    """The manifest of the backup at ``path``, once every file's checksum matches; BackupError otherwise."""
    path = Path(path)
    try:
        manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BackupError(f"{path}: no readable {MANIFEST}") from exc
    for name, expected in manifest["files"].items():
        file = path / name
        if not file.is_file() or _sha256(file) != expected["sha256"]:
            raise BackupError(f"{file}: missing or its checksum differs from the manifest")
    return manifest


def _database_is_empty() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = 'public'")
        return cursor.fetchone()[0] == 0


def _extract(archive: Path, root: Path) -> int:
    root.mkdir(parents=True, exist_ok=True)
    count = 0
    with tarfile.open(archive, "r:gz") as tar:
        members = [member for member in tar.getmembers() if member.isfile()]
        tar.extractall(root, members=members, filter="data")  # "data": no absolute paths, links or devices
        count = len(members)
    return count


def backup_restore(*, path: Path, media: bool = True) -> dict[str, Any]:
    """Restore the backup at ``path`` into the (empty) default database and the (empty) media folders; returns
    what was restored. The database connection is closed afterwards (its catalogue changed under it)."""
    manifest = backup_verify(path=path)
    url = database_url()
    if not _database_is_empty():
        raise BackupError(f"database {settings.DATABASES['default']['NAME']} has tables: restore into a fresh one")
    roots = _media_roots()
    if media:
        for key, root in roots.items():
            if root.is_dir() and any(root.iterdir()):
                raise BackupError(f"{key} folder {root} is not empty: restore into empty folders")
    connection.close()
    _run(["pg_restore", "--exit-on-error", "--single-transaction", "--no-owner", "--no-privileges",
          f"--dbname={url}", str(Path(path) / DATABASE_FILE)], what="pg_restore")
    restored: dict[str, Any] = {"database": settings.DATABASES["default"]["NAME"],
                                "backup_created_at": manifest["created_at"], "media": {}}
    if media:
        for key, root in roots.items():
            restored["media"][key] = _extract(Path(path) / MEDIA_ARCHIVES[key], root)
    return restored


def backups_prune(*, destination: Path, keep: int) -> list[Path]:
    """Delete all but the ``keep`` newest backups under ``destination`` (folders with a manifest); the removed."""
    found = sorted((p for p in Path(destination).iterdir() if (p / MANIFEST).is_file()), key=lambda p: p.name)
    removed = found[:-keep] if keep > 0 else found
    for folder in removed:
        shutil.rmtree(folder)
    return removed
