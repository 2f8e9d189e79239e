"""Formats for the English interface of a Vietnamese installation: dates are still read and shown day first.

A date typed by an organiser who chose English must mean the same day as the same text typed by one who uses
Vietnamese (both run the same contests): so English keeps the Vietnamese formats, only the words change.
"""

from contest_engine.formats.vi.formats import (  # noqa: F401
    DATE_FORMAT,
    DATE_INPUT_FORMATS,
    DATETIME_FORMAT,
    DATETIME_INPUT_FORMATS,
    FIRST_DAY_OF_WEEK,
    MONTH_DAY_FORMAT,
    SHORT_DATE_FORMAT,
    SHORT_DATETIME_FORMAT,
    TIME_FORMAT,
    TIME_INPUT_FORMATS,
    YEAR_MONTH_FORMAT,
)

# English readers expect a decimal point; scores on pages go through contest_engine/numbers.py anyway.
DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
