#!/usr/bin/env python
"""What one password check costs on this machine, per hasher: Django's default PBKDF2 (SHA-256, its default
iterations), argon2id at OWASP's minimum (m = 19 MiB, t = 2, p = 1: ``accounts.hashers.Argon2idHasher``, the
production choice) and Django's own argon2 defaults (m = 100 MiB, t = 2, p = 8) for comparison.

For each: wall and CPU time of one ``verify`` (median and p95 of ``--checks``), and checks per second with 1
and 2 threads at once (the hashers release the GIL, so two threads use two cores). Prints one JSON document::

    .venv/bin/python bench/password_hash.py --checks 20
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def measure(hasher, *, checks: int) -> dict[str, object]:
    encoded = hasher.encode("mat-khau-thu-nghiem-1", hasher.salt())
    walls, cpus = [], []
    for _ in range(checks):
        wall, cpu = time.perf_counter(), time.process_time()
        assert hasher.verify("mat-khau-thu-nghiem-1", encoded)
        walls.append((time.perf_counter() - wall) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
    walls.sort()
    cpus.sort()
    out: dict[str, object] = {
        "encoded_prefix": encoded.rsplit("$", 2)[0],
        "verify_wall_ms": {"p50": round(statistics.median(walls), 2),
                           "p95": round(walls[int(0.95 * (len(walls) - 1))], 2)},
        "verify_cpu_ms": {"p50": round(statistics.median(cpus), 2)},
    }
    per_thread = max(2, checks // 2)

    def verify_many() -> None:
        for _ in range(per_thread):
            hasher.verify("mat-khau-thu-nghiem-1", encoded)

    for threads in (1, 2):
        started = time.perf_counter()
        workers = [threading.Thread(target=verify_many) for _ in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        out[f"checks_per_second_{threads}_threads"] = round(threads * per_thread / (time.perf_counter() - started), 1)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checks", type=int, default=20, help="checks per hasher")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "contest_engine.settings")
    os.environ["PASSWORD_HASH_CONCURRENCY"] = "2"  # the hasher's own cost, not the server's limit of it
    import django

    django.setup()
    from django.contrib.auth.hashers import Argon2PasswordHasher, PBKDF2PasswordHasher

    from accounts.hashers import Argon2idHasher

    report = {
        "cpus": os.cpu_count(),
        "checks": args.checks,
        "pbkdf2_sha256_django_default": {"iterations": PBKDF2PasswordHasher.iterations,
                                         **measure(PBKDF2PasswordHasher(), checks=args.checks)},
        "argon2id_owasp_minimum": {"memory_kib": Argon2idHasher.memory_cost, "time_cost": Argon2idHasher.time_cost,
                                   "parallelism": Argon2idHasher.parallelism,
                                   **measure(Argon2idHasher(), checks=args.checks)},
        "argon2id_django_default": {"memory_kib": Argon2PasswordHasher.memory_cost,
                                    "time_cost": Argon2PasswordHasher.time_cost,
                                    "parallelism": Argon2PasswordHasher.parallelism,
                                    **measure(Argon2PasswordHasher(), checks=args.checks)},
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
