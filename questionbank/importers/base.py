"""The intermediate representation every importer produces and every exporter consumes.

Parsers (xlsx, docx, Moodle XML, GIFT, Aiken) turn a file into a ``ParseResult`` without touching the
database; ``questionbank.services.questions_import`` validates the whole result and saves it all or
nothing. Messages are Vietnamese (they reach organisers).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal


@dataclass
class ParsedOption:
    text: str                      # sanitised HTML or plain text
    fraction: Decimal = Decimal("0")  # Moodle credit fraction, -1..1; > 0 means (partly) correct
    feedback: str = ""
    tolerance: Decimal | None = None  # numeric questions only


@dataclass
class ParsedMedia:
    filename: str
    content: bytes
    content_type: str = ""


@dataclass
class ParsedQuestion:
    type: str                      # questionbank.models.QuestionType value
    stem: str
    options: list[ParsedOption] = field(default_factory=list)
    explanation: str = ""
    citation_document: str = ""
    citation_article: str = ""
    citation_clause: str = ""
    topic_path: list[str] = field(default_factory=list)  # ["Luật Giao thông", "Xử phạt"]
    tags: list[str] = field(default_factory=list)
    difficulty: str = "medium"
    points: Decimal = Decimal("1")
    media: list[ParsedMedia] = field(default_factory=list)
    line: int | None = None        # where the item starts, for messages (text formats)
    row: int | None = None         # spreadsheet row, for messages (xlsx)


@dataclass
class Problem:
    message: str
    line: int | None = None
    row: int | None = None

    def as_dict(self) -> dict:
        return {"line": self.line, "row": self.row, "message": self.message}


@dataclass
class Unsupported:
    item: str                      # name or first words of the skipped item
    type: str                      # the format's own type name (e.g. "cloze", "matching")
    reason: str

    def as_dict(self) -> dict:
        return {"item": self.item, "type": self.type, "reason": self.reason}


@dataclass
class ParseResult:
    questions: list[ParsedQuestion] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    unsupported: list[Unsupported] = field(default_factory=list)


class ImportFileError(Exception):
    """The file as a whole cannot be read (not a zip, bomb, wrong encoding, hostile XML…)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message
