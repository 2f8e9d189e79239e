"""python manage.py import_questions PATH [--org SLUG] [--format auto|xlsx|docx|moodle-xml|gift|aiken]
[--dry-run] [--json]

All or nothing per file; exit status 1 when there are errors. ``--json`` prints exactly one object:
{"imported": N, "unsupported": [...], "warnings": [...], "errors": [...]}. With ``--dry-run`` nothing is
written and "imported" is the number of questions that *would* be imported.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from accounts.models import Organisation
from questionbank.errors import QuestionBankError
from questionbank.importers.base import ImportFileError, Problem
from questionbank.importers.detect import FORMAT_CHOICES, parse_file
from questionbank.models import Visibility
from questionbank.services.imports import ImportReport, questions_import


class Command(BaseCommand):
    help = "Nhập câu hỏi từ tệp xlsx, docx, Moodle XML, GIFT hoặc Aiken (tất cả hoặc không gì cả)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("path")
        parser.add_argument("--org", dest="org", help="Mã (slug) tổ chức sở hữu câu hỏi.")
        parser.add_argument("--format", dest="fmt", default="auto", choices=FORMAT_CHOICES)
        parser.add_argument("--dry-run", action="store_true", help="Chỉ kiểm tra, không lưu gì.")
        parser.add_argument("--json", action="store_true", help="In kết quả dạng JSON.")
        parser.add_argument("--visibility", default=Visibility.SHARED, choices=Visibility.values)
        parser.add_argument("--existing-topics-only", action="store_true",
                            help="Báo lỗi khi chủ đề chưa có, thay vì tạo mới.")

    def handle(self, *args: Any, **options: Any) -> None:
        organisation = self._organisation(options["org"])
        report = ImportReport()
        try:
            result = parse_file(options["path"], options["fmt"])
            report = questions_import(organisation=organisation, result=result, dry_run=options["dry_run"],
                                      visibility=options["visibility"],
                                      create_topics=not options["existing_topics_only"])
        except ImportFileError as exc:
            report.errors.append(Problem(exc.message).as_dict())
        except QuestionBankError as exc:
            report.errors.append(Problem(exc.message).as_dict())
        if options["dry_run"] and not report.errors:
            report.imported = report.valid
        self._print(report, options)
        if report.errors:
            sys.exit(1)

    def _organisation(self, slug: str | None) -> Organisation:
        if slug:
            try:
                return Organisation.objects.get(slug=slug)
            except Organisation.DoesNotExist as exc:
                raise CommandError(f"Không có tổ chức với mã “{slug}”.") from exc
        orgs = list(Organisation.objects.filter(is_active=True)[:2])
        if len(orgs) == 1:
            return orgs[0]
        raise CommandError("Cần chỉ rõ tổ chức sở hữu: --org MÃ_TỔ_CHỨC.")

    def _print(self, report: ImportReport, options: dict[str, Any]) -> None:
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False))
            return
        def where(p: dict) -> str:
            if p.get("row") is not None:
                return f"dòng {p['row']}: "
            if p.get("line") is not None:
                return f"dòng {p['line']}: "
            return ""
        for e in report.errors:
            self.stderr.write(f"LỖI {where(e)}{e['message']}")
        for w in report.warnings:
            self.stdout.write(f"Cảnh báo {where(w)}{w['message']}")
        for u in report.unsupported:
            self.stdout.write(f"Bỏ qua ({u['type']}): {u['item']} — {u['reason']}")
        if report.errors:
            self.stderr.write(f"Không nhập câu hỏi nào: có {len(report.errors)} lỗi.")
        elif options["dry_run"]:
            self.stdout.write(f"Chạy thử: {report.imported} câu hỏi hợp lệ, chưa lưu gì.")
        else:
            self.stdout.write(self.style.SUCCESS(f"Đã nhập {report.imported} câu hỏi (chờ thẩm định)."))
