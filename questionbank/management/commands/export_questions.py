"""python manage.py export_questions OUT [--format xlsx|moodle-xml] [--org SLUG] [--status …] [--topic ID]
[--ids 1,2,3] [--all-versions]

Writes the questions in the import template (questionbank.exporters.xlsx) or as Moodle XML
(questionbank.exporters.moodle_xml): export → import reproduces them. Without --format the format follows
OUT's extension (.xml → moodle-xml, otherwise xlsx).
Without --org, exports every organisation's questions (an operator's command); with --org, that
organisation's own questions.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from accounts.models import Organisation
from questionbank.exporters import moodle_xml
from questionbank.exporters.xlsx import export_questions
from questionbank.models import Question, QuestionStatus
from questionbank.selectors import topic_descendant_ids


class Command(BaseCommand):
    help = "Xuất câu hỏi ra tệp Excel theo mẫu nhập."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("out")
        parser.add_argument("--format", dest="format", choices=("xlsx", "moodle-xml"),
                            help="Định dạng tệp (mặc định theo đuôi tệp: .xml → moodle-xml, còn lại xlsx).")
        parser.add_argument("--org", dest="org")
        parser.add_argument("--status", choices=QuestionStatus.values)
        parser.add_argument("--topic", type=int, help="Mã chủ đề (kể cả chủ đề con).")
        parser.add_argument("--ids", help="Danh sách mã câu hỏi, cách nhau bằng dấu phẩy.")
        parser.add_argument("--all-versions", action="store_true", help="Cả các phiên bản cũ.")

    def handle(self, *args: Any, **options: Any) -> None:
        qs = Question.objects.all()
        if not options["all_versions"]:
            qs = qs.filter(is_current=True)
        if options["org"]:
            org = Organisation.objects.filter(slug=options["org"]).first()
            if org is None:
                raise CommandError(f"Không có tổ chức với mã “{options['org']}”.")
            qs = qs.filter(organisation=org)
        if options["status"]:
            qs = qs.filter(status=options["status"])
        if options["topic"]:
            qs = qs.filter(topic_id__in=topic_descendant_ids([options["topic"]]))
        if options["ids"]:
            try:
                ids = [int(x) for x in options["ids"].split(",") if x.strip()]
            except ValueError as exc:
                raise CommandError("--ids phải là các số cách nhau bằng dấu phẩy.") from exc
            qs = qs.filter(pk__in=ids)
        fmt = options["format"] or ("moodle-xml" if options["out"].lower().endswith(".xml") else "xlsx")
        writer = moodle_xml.export_questions if fmt == "moodle-xml" else export_questions
        count = writer(options["out"], qs)
        self.stdout.write(self.style.SUCCESS(f"Đã xuất {count} câu hỏi vào {options['out']}."))
