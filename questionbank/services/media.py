"""Images and audio attached to questions: what a file really is (by its bytes), the size limits, storing it.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile

from accounts.models import Role
from questionbank.errors import MediaRejected
from questionbank.models import (
    Question,
    QuestionMedia,
)
from questionbank.services._common import _require

_IMAGE_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)
_AUDIO_SIGNATURES = (
    (b"ID3", "audio/mpeg"),
    (b"\xff\xfb", "audio/mpeg"),
    (b"\xff\xf3", "audio/mpeg"),
    (b"\xff\xf2", "audio/mpeg"),
    (b"OggS", "audio/ogg"),
)


def media_sniff(content: bytes) -> tuple[str, str] | None:
    """(kind, content type) from the file's magic bytes — never from its name. SVG is refused (it can
    carry script). Returns None for anything else."""
    head = content[:16]
    for sig, ctype in _IMAGE_SIGNATURES:
        if head.startswith(sig):
            return QuestionMedia.Kind.IMAGE, ctype
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return QuestionMedia.Kind.IMAGE, "image/webp"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return QuestionMedia.Kind.AUDIO, "audio/wav"
    if head[4:8] == b"ftyp" and head[8:11] in (b"M4A", b"mp4", b"iso", b"mp4"):
        return QuestionMedia.Kind.AUDIO, "audio/mp4"
    for sig, ctype in _AUDIO_SIGNATURES:
        if head.startswith(sig):
            return QuestionMedia.Kind.AUDIO, ctype
    return None


def media_limits() -> dict[str, int]:
    return {
        QuestionMedia.Kind.IMAGE: int(getattr(settings, "QUESTION_IMAGE_MAX_BYTES", 2 * 1024 * 1024)),
        QuestionMedia.Kind.AUDIO: int(getattr(settings, "QUESTION_AUDIO_MAX_BYTES", 10 * 1024 * 1024)),
    }


def media_validate(*, filename: str, content: bytes) -> tuple[str, str]:
    """Check type (magic bytes) and size; returns (kind, content_type) or raises MediaRejected."""
    sniffed = media_sniff(content)
    if sniffed is None:
        raise MediaRejected(f"Tệp “{filename}” không phải ảnh (PNG, JPEG, GIF, WebP) hay âm thanh "
                            "(MP3, OGG, WAV, M4A) được hỗ trợ.")
    kind, ctype = sniffed
    limit = media_limits()[kind]
    if len(content) > limit:
        raise MediaRejected(f"Tệp “{filename}” quá lớn ({len(content) // 1024} KB, tối đa {limit // 1024} KB).")
    return kind, ctype


_EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif", "image/webp": "webp",
               "audio/mpeg": "mp3", "audio/ogg": "ogg", "audio/wav": "wav", "audio/mp4": "m4a"}


def question_media_add(*, question: Question, actor: Any, filename: str, content: bytes) -> QuestionMedia:
    """Attach an image/audio file (writer role). The stored name is derived from the sniffed type."""
    _require(actor, question.organisation_id, {Role.WRITER})
    kind, ctype = media_validate(filename=filename, content=content)
    media = QuestionMedia(question=question, kind=kind, content_type=ctype, size=len(content))
    media.file.save(f"q{question.pk}.{_EXTENSIONS[ctype]}", ContentFile(content), save=False)
    media.save()
    return media
