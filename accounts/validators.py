"""Format checks for Vietnamese phone numbers and national ID numbers (số định danh cá nhân)."""

import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# Mobile numbers: 10 digits starting 03, 05, 07, 08, 09 (domestic form), or +84 followed by 9 digits.
PHONE_RE = re.compile(r"^0[35789][0-9]{8}$")


def ascii_digits(value: str) -> str:
    """NFKC-normalised ``value`` with every decimal digit as its ASCII digit: full-width ``０９１２``, Arabic-Indic
    or any other script's digits typed on a phone keyboard become ``0912``. NFKC also turns the full-width
    ``＋``, ``（`` and the ideographic space into their ASCII forms."""
    value = unicodedata.normalize("NFKC", value or "")
    return "".join(str(unicodedata.decimal(ch)) if ch.isdecimal() else ch for ch in value)


def normalise_phone(value: str) -> str:
    """Return the domestic 10-digit form of a phone number; spaces, dots and dashes are dropped, and digits of
    any script become ASCII (``ascii_digits``), so every spelling of one number gives one string."""
    digits = re.sub(r"[\s.\-()]", "", ascii_digits(value))
    if digits.startswith("+84"):
        digits = "0" + digits[3:]
    elif digits.startswith("84") and len(digits) == 11:
        digits = "0" + digits[2:]
    return digits


def validate_phone(value: str) -> None:
    if not PHONE_RE.match(normalise_phone(value)):
        raise ValidationError(_("Số điện thoại không hợp lệ (cần 10 chữ số, ví dụ 0912345678)."),
                              code="invalid_phone")


def validate_national_id(value: str) -> None:
    """12 digits: province code (001–096), century/sex digit, two-digit birth year, six serial digits."""
    if not value:
        return
    if not re.fullmatch(r"[0-9]{12}", value):  # ASCII only: forms convert other digits first (DigitsField)
        raise ValidationError(_("Số định danh cá nhân phải gồm đúng 12 chữ số."), code="invalid_national_id")
    province = int(value[:3])
    if not 1 <= province <= 96:
        raise ValidationError(_("Mã tỉnh trong số định danh cá nhân không hợp lệ."),
                              code="invalid_national_id")
