"""Reading exports back with openpyxl (read-only: iterate, write-only files have no dimensions)."""

from __future__ import annotations

import io
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils.escape import unescape


def read_book(data: bytes | str) -> Any:
    source = io.BytesIO(data) if isinstance(data, bytes) else data
    return load_workbook(source, read_only=True)


def sheet_rows(book: Any, name: str) -> list[list[Any]]:
    """Every row of a sheet as cells (value + data_type available)."""
    return [list(row) for row in book[name].iter_rows()]


def values(rows: list[list[Any]]) -> list[list[Any]]:
    return [[c.value for c in row] for row in rows]


def ooxml_text(value: Any) -> Any:
    """Decode the OOXML ``_xHHHH_`` escape of control characters (openpyxl leaves it as stored)."""
    return unescape(value) if isinstance(value, str) else value
