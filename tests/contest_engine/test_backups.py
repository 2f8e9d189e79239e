"""The restore drill (contest_engine/backups.py, issue 12): the demo data loaded into a database of its own,
backed up with ``manage.py backup`` (pg_dump and both media folders), restored with ``manage.py restore`` into a
fresh database of another name and empty media folders — and the published results, the rankings, the attempts
and answers are identical row by row, every table has as many rows, every media file is back byte for byte.
In a PostgreSQL cluster of the test's own (tests/services.py)."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.outage_data import ROOT, child_env

pytestmark = pytest.mark.slow

COUNTS = """SELECT table_name, (xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM %I', table_name),
            false, true, '')))[1]::text FROM information_schema.tables WHERE table_schema = 'public'
            AND table_type = 'BASE TABLE' ORDER BY table_name"""
TABLES = {"leaderboards_roundranking": "id", "leaderboards_rankingentry": "ranking_id, position",
          "contests_attempt": "id", "contests_answer": "id", "contests_registration": "id",
          "accounts_auditevent": "id"}


def manage(*args: str, url: str, **env: str) -> str:
    result = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=child_env(url, **env),
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def results(url: str) -> dict:
    result = subprocess.run([sys.executable, "-m", "tests.backup_drill", "results"], cwd=ROOT, env=child_env(url),
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout)


def files_of(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_a_restored_backup_has_the_same_results(throwaway_postgres, tmp_path):
    pg = throwaway_postgres
    source, copy = f"drill_src_{tmp_path.name[-6:]}", f"drill_copy_{tmp_path.name[-6:]}"
    pg.psql(f'CREATE DATABASE "{source}" TEMPLATE ce_template')
    pg.psql(f'CREATE DATABASE "{copy}"')  # empty: no migrations, nothing
    try:
        media = {"MEDIA_ROOT": str(tmp_path / "media"), "PRIVATE_MEDIA_ROOT": str(tmp_path / "private")}
        manage("load_demo", url=pg.url(source), **media)
        # The demo's final round is left for the judges; publish its version 1 as the panel would, so that the
        # drill compares a published list too (the approval workflow is tested in tests/judging/).
        pg.psql("UPDATE leaderboards_roundranking SET status = 'published', published_at = now() "
                "WHERE version = 1", dbname=source)
        (tmp_path / "media" / "questions").mkdir(parents=True)
        (tmp_path / "media" / "questions" / "hinh-1.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
        (tmp_path / "private" / "exports").mkdir(parents=True)
        (tmp_path / "private" / "exports" / "ket-qua.xlsx").write_bytes(b"PK\x03\x04 personal data")

        out = manage("backup", "--to", str(tmp_path / "backups"), url=pg.url(source), **media)
        [folder] = list((tmp_path / "backups").iterdir())
        assert str(folder) in out
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        assert {p.name: stat.S_IMODE(p.stat().st_mode) for p in folder.iterdir()} == {
            "database.dump": 0o600, "media.tar.gz": 0o600, "private-media.tar.gz": 0o600, "manifest.json": 0o600}
        manifest = json.loads((folder / "manifest.json").read_text())
        assert manifest["media"]["media"]["files"] == 1
        assert manifest["media"]["private_media"]["files"] == 1

        restored_media = {"MEDIA_ROOT": str(tmp_path / "media2"), "PRIVATE_MEDIA_ROOT": str(tmp_path / "private2")}
        manage("restore", str(folder), url=pg.url(copy), **restored_media)

        before, after = results(pg.url(source)), results(pg.url(copy))
        published = [r for r in before.values() if r["published"] is not None]
        assert published
        assert all(r["rankings"][0]["rows"] for r in published)
        assert after == before
        for table, order in TABLES.items():
            query = f"SELECT * FROM {table} ORDER BY {order}"  # noqa: S608 — the names above
            rows = pg.psql(query, dbname=source)
            assert rows, table
            assert pg.psql(query, dbname=copy) == rows, table
        assert pg.psql(COUNTS, dbname=copy) == pg.psql(COUNTS, dbname=source)
        assert files_of(tmp_path / "media2") == files_of(tmp_path / "media")
        assert files_of(tmp_path / "private2") == files_of(tmp_path / "private")
        # The restored copy is a working installation: nothing left to migrate.
        assert "No planned migration operations" in manage("migrate", "--plan", url=pg.url(copy))
    finally:
        for name in (source, copy):
            pg.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_restore_refuses_a_database_with_tables_and_a_damaged_backup(throwaway_postgres, tmp_path):
    pg = throwaway_postgres
    name = f"drill_used_{tmp_path.name[-6:]}"
    pg.psql(f'CREATE DATABASE "{name}" TEMPLATE ce_template')
    try:
        media = {"MEDIA_ROOT": str(tmp_path / "media"), "PRIVATE_MEDIA_ROOT": str(tmp_path / "private")}
        manage("backup", "--to", str(tmp_path / "backups"), url=pg.url(name), **media)
        [folder] = list((tmp_path / "backups").iterdir())
        refused = subprocess.run([sys.executable, "manage.py", "restore", str(folder)], cwd=ROOT,
                                 env=child_env(pg.url(name), **media), capture_output=True, text=True, timeout=120)
        assert refused.returncode != 0
        assert "has tables" in refused.stderr
        with (folder / "database.dump").open("r+b") as dump:
            dump.seek(100)
            dump.write(b"\0\0\0\0")
        damaged = subprocess.run([sys.executable, "manage.py", "restore", "--verify-only", str(folder)], cwd=ROOT,
                                 env=child_env(pg.url(name), **media), capture_output=True, text=True, timeout=120)
        assert damaged.returncode != 0
        assert "checksum" in damaged.stderr
    finally:
        pg.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
