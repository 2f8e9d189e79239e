"""Vietnamese date, time and number formats (``FORMAT_MODULE_PATH = "contest_engine.formats"``).

Django ships display formats for ``vi`` but no input formats, so without this module a typed ``03/12/2026``
is read with Django's default ``%m/%d/%Y`` — 12 March instead of 3 December. Dates are read and shown day
first, times on the 24-hour clock; ISO 8601 (``2026-12-03``, ``2026-12-03 14:30``, what a browser's
``<input type="date">``/``datetime-local`` sends) is always accepted too.
"""

# Display (the date filter's named formats and the admin's changelists)
DATE_FORMAT = "d/m/Y"
TIME_FORMAT = "H:i"
DATETIME_FORMAT = "d/m/Y H:i"
SHORT_DATE_FORMAT = "d/m/Y"
SHORT_DATETIME_FORMAT = "d/m/Y H:i"
YEAR_MONTH_FORMAT = "m/Y"
MONTH_DAY_FORMAT = "d/m"
FIRST_DAY_OF_WEEK = 1  # Monday

# Input, tried in order. The first of each is also how a form shows a stored value (and the admin's
# calendar widget writes the date it picks).
DATE_INPUT_FORMATS = [
    "%d/%m/%Y",  # 03/12/2026
    "%d-%m-%Y",  # 03-12-2026
    "%d.%m.%Y",  # 03.12.2026
    "%Y-%m-%d",  # 2026-12-03 (ISO, browsers' date inputs)
]
TIME_INPUT_FORMATS = [
    "%H:%M",  # 14:30
    "%H:%M:%S",  # 14:30:59
    "%H:%M:%S.%f",
    "%Hh%M",  # 14h30, as often written in Vietnamese
]
DATETIME_INPUT_FORMATS = [
    "%d/%m/%Y %H:%M",  # 03/12/2026 14:30
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %Hh%M",
    "%d/%m/%Y",
    "%d-%m-%Y %H:%M",
    "%d-%m-%Y %H:%M:%S",
    "%d-%m-%Y",
    "%Y-%m-%d %H:%M:%S",  # ISO (DateTimeField also accepts every ISO 8601 form itself)
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d",
]

# Numbers (contest_engine/numbers.py applies the same rule to scores, counts and durations)
DECIMAL_SEPARATOR = ","
THOUSAND_SEPARATOR = "."
NUMBER_GROUPING = 3
