"""Template filters for the one number rule (contest_engine/numbers.py): ``{% load vi_numbers %}``,
``{{ attempt.score|score }}``, ``{{ entries|length|count }}``, ``{{ attempt.duration_ms|duration }}``,
``{{ share|percent }}``."""

from django import template

from contest_engine.numbers import format_count, format_duration_ms, format_percent, format_score

register = template.Library()
register.filter("score", format_score, is_safe=True)
register.filter("count", format_count, is_safe=True)
register.filter("duration", format_duration_ms, is_safe=True)
register.filter("percent", format_percent, is_safe=True)
