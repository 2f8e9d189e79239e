"""Write the read API's OpenAPI schema: ``manage.py api_openapi docs/api/openapi.json`` (or to stdout)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand
from django.core.serializers.json import DjangoJSONEncoder

from api.views import read_api


def openapi_text() -> str:
    """The schema as committed: sorted keys, two-space indent, UTF-8 (Vietnamese stays readable)."""
    # Through JSON once first: ninja keys responses by int (200) and the extra ones by str ("304").
    schema = json.loads(json.dumps(read_api.get_openapi_schema(), cls=DjangoJSONEncoder))
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


class Command(BaseCommand):
    help = "Write the OpenAPI schema of /api/v1/ (the committed copy is docs/api/openapi.json)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("path", nargs="?", help="file to write (default: stdout)")

    def handle(self, *args: Any, **options: Any) -> None:
        text = openapi_text()
        if options["path"]:
            Path(options["path"]).write_text(text, encoding="utf-8")
        else:
            self.stdout.write(text, ending="")
