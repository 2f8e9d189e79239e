"""python manage.py export_results (--round ID | --contest ID) --out FILE.xlsx [--as-user USERNAME]
[--answers-csv] [--max-rows N]

The command line is the server's operator: full personal data, audited as the system (or as
``--as-user``, who must then be an organiser or judge of the owning organisation).
"""

from __future__ import annotations

import json

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from contests.models import Contest, Round
from exports.models import ExportKind
from exports.selectors import export_target
from exports.services import can_export, export_results_to_path


class Command(BaseCommand):
    help = "Export the results workbook of a round or a whole contest (full personal data, audited)."

    def add_arguments(self, parser):
        scope = parser.add_mutually_exclusive_group(required=True)
        scope.add_argument("--round", type=int, help="Round id")
        scope.add_argument("--contest", type=int, help="Contest id (every round)")
        parser.add_argument("--out", required=True, help="Output file (.xlsx, or .zip with --answers-csv)")
        parser.add_argument("--as-user", help="Record the export in the audit log as this user (username)")
        parser.add_argument("--answers-csv", action="store_true", help="Write the answers as a zipped CSV")
        parser.add_argument("--max-rows", type=int, default=None, help="Rows per answers sheet (default: Excel's)")

    def handle(self, *args, **options):
        try:
            target = export_target(round_id=options["round"], contest_id=options["contest"])
        except (Round.DoesNotExist, Contest.DoesNotExist) as exc:
            raise CommandError("Không tìm thấy đợt thi / cuộc thi.") from exc
        actor = None
        if options["as_user"]:
            actor = get_user_model().objects.filter(username=options["as_user"]).first()
            if actor is None:
                raise CommandError(f"Không có người dùng {options['as_user']!r}.")
            if not can_export(user=actor, organisation_id=target.organisation_id):
                raise CommandError("Người dùng này không thuộc Ban tổ chức hoặc Ban giám khảo của đơn vị tổ chức.")
        kind = ExportKind.ANSWERS_CSV if options["answers_csv"] else ExportKind.RESULTS_XLSX
        max_rows = options["max_rows"]
        if max_rows is not None and max_rows < 2:
            raise CommandError("--max-rows phải lớn hơn 1.")
        stats = export_results_to_path(target=target, path=options["out"], actor=actor, kind=kind,
                                       max_rows=max_rows)
        self.stdout.write(json.dumps({"out": options["out"], "rows": stats.rows, "sheets": stats.sheets},
                                     ensure_ascii=False))
