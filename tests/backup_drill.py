"""The published results of every round as the public list shows them, read in a child process from the database
of its ``DATABASE_URL`` (tests/contest_engine/test_backups.py compares a database with its restored copy)::

    python -m tests.backup_drill results   → {"<round id>": {"published": <ranking id>, "rankings": [...]}}
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from typing import Any


def _results() -> dict[str, Any]:
    from contests.models import Round
    from judging.selectors import published_rows, ranking_published
    from leaderboards.models import RoundRanking

    out: dict[str, Any] = {}
    for round_ in Round.objects.order_by("pk"):
        published = ranking_published(round=round_)
        rankings = []
        for ranking in RoundRanking.objects.filter(round=round_).order_by("version"):
            rows = [{key: str(value) for key, value in dataclasses.asdict(row).items()}
                    for row in published_rows(ranking=ranking, limit=100_000)]
            rankings.append({"id": ranking.pk, "version": ranking.version, "status": ranking.status,
                             "entries": ranking.entry_count, "rows": rows})
        out[str(round_.pk)] = {"published": published.pk if published else None, "rankings": rankings}
    return out


def main(argv: list[str]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "contest_engine.settings_test")
    import django

    django.setup()
    if argv[:1] != ["results"]:
        raise SystemExit(__doc__)
    print(json.dumps(_results(), ensure_ascii=False))


if __name__ == "__main__":
    main(sys.argv[1:])
