"""``{% load vi_time %}{% zone_label %}`` → "giờ Việt Nam (UTC+07:00)": the clock the times on a page are in."""

from django import template

from contest_engine.timezones import zone_label as _zone_label

register = template.Library()


@register.simple_tag
def zone_label() -> str:
    return _zone_label()
