#!/usr/bin/env python
"""Benchmark of the Excel import: N generated rows (default 10,000) through ``manage.py import_questions``.

Generates a realistic template file (Vietnamese stems of varied wording, 4 options, topics, citations), then
runs the real command in a child process — parse, validate, duplicate detection against the bank, save in
one transaction — and prints one JSON document with the wall time and the child's peak RSS. Target (issue 3)
on the 2-core machine: under 30 s and under 300 MB for 10,000 rows. Example::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ce_bench REDIS_URL=redis://127.0.0.1:6379/6 \\
      .venv/bin/python bench/import_questions.py --rows 10000

The questions are imported into the organisation ``--org`` (created if missing) and deleted afterwards
unless ``--keep``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SUBJECTS = ["người đi bộ", "người điều khiển xe đạp", "người lái xe ô tô", "người điều khiển xe mô tô",
            "học sinh", "chủ phương tiện", "cơ sở kinh doanh", "người tiêu dùng", "vợ, chồng", "người thừa kế",
            "người sử dụng đất", "công dân", "người chưa thành niên", "tổ chức tín dụng", "doanh nghiệp"]
ACTS = ["sang đường", "dừng xe", "đỗ xe", "vượt xe", "chuyển hướng", "kết hôn", "ly hôn", "lập di chúc",
        "chuyển nhượng quyền sử dụng đất", "khiếu nại", "mua hàng trực tuyến", "cấp thẻ căn cước",
        "đăng ký biến động", "xử lý dữ liệu cá nhân", "quảng cáo rượu, bia", "bán hàng đa cấp"]
PLACES = ["nội thành", "ngoại thành", "khu dân cư", "nông thôn", "đường cao tốc", "chợ", "trường học",
          "bệnh viện", "cơ quan nhà nước", "khu công nghiệp", "bến xe", "nhà văn hoá"]
LAWS = ["36/2024/QH15", "52/2014/QH13", "91/2015/QH13", "26/2023/QH15", "31/2024/QH15", "19/2023/QH15",
        "44/2019/QH14", "91/2025/QH15"]
TOPICS = ["Giao thông > Quy tắc", "Giao thông > Xử phạt", "Hôn nhân và gia đình", "Dân sự > Thừa kế",
          "Đất đai", "Người tiêu dùng", "Căn cước", "Dữ liệu cá nhân"]


def make_file(path: str, rows: int, seed: int) -> None:
    from questionbank.exporters.xlsx import write_workbook

    rng = random.Random(seed)

    def row(i: int) -> dict:
        subject, act, place = rng.choice(SUBJECTS), rng.choice(ACTS), rng.choice(PLACES)
        stem = (f"Tình huống {i}: {subject} khi {act} tại {place} vào ngày {rng.randint(1, 28)}/"
                f"{rng.randint(1, 12)} cần thực hiện nghĩa vụ nào theo quy định số {rng.randint(1, 99999)}?")
        options = [f"Phương án {letter} cho tình huống {i}: {rng.choice(ACTS)} {rng.choice(PLACES)}"
                   for letter in "ABCD"]
        correct = rng.randrange(4)
        data = {"type": "Một lựa chọn", "stem": stem, "answer": "ABCD"[correct],
                "explanation": f"Giải thích cho tình huống {i}.", "citation_document": rng.choice(LAWS),
                "citation_article": str(rng.randint(1, 200)), "topic": rng.choice(TOPICS),
                "difficulty": rng.choice(["Dễ", "Trung bình", "Khó"]), "points": 1}
        for letter, text in zip("abcd", options, strict=True):
            data[f"option_{letter}"] = text
        return data

    write_workbook(path, (row(i) for i in range(rows)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--org", default="bench-import")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "contest_engine.settings")
    import django

    django.setup()
    from accounts.models import Organisation
    from questionbank.models import Question

    org, _ = Organisation.objects.get_or_create(slug=args.org, defaults={"name": "Benchmark import",
                                                                          "kind": "agency", "is_unit": False})
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "bench.xlsx")
        started = time.perf_counter()
        make_file(path, args.rows, args.seed)
        generate_seconds = time.perf_counter() - started
        size = os.path.getsize(path)
        started = time.perf_counter()
        proc = subprocess.run([sys.executable, str(ROOT / "manage.py"), "import_questions", path, "--org", org.slug,
                               "--format", "xlsx", "--json"], capture_output=True, text=True, check=False)
        seconds = time.perf_counter() - started
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    try:
        report = json.loads(proc.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        report = {"stdout": proc.stdout[-2000:], "stderr": proc.stderr[-2000:]}
    imported = report.get("imported")
    if not args.keep:
        Question.objects.filter(organisation=org).delete()
    print(json.dumps({
        "rows": args.rows, "file_bytes": size, "generate_seconds": round(generate_seconds, 2),
        "seconds": round(seconds, 2), "peak_rss_mb": round(peak_kb / 1024, 1), "exit_code": proc.returncode,
        "imported": imported, "warnings": len(report.get("warnings", [])), "errors": report.get("errors", [])[:5],
        "child_stderr": proc.stderr[-1500:] if proc.returncode and "imported" not in report else "",
        "target": {"seconds": 30, "peak_rss_mb": 300},
        "within_target": bool(proc.returncode == 0 and seconds < 30 and peak_kb / 1024 < 300),
    }, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
