"""The installation's time zone, named for people: organisers type and read times in it.

One installation serves one province, so every contest runs on ``settings.TIME_ZONE`` (Asia/Ho_Chi_Minh by
default); pages and forms that show or take a time say which clock it is ("giờ Việt Nam, UTC+07:00").
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

ZONE_NAMES = {
    "Asia/Ho_Chi_Minh": gettext_lazy("giờ Việt Nam"),
    "Asia/Saigon": gettext_lazy("giờ Việt Nam"),
}


def zone_label(moment: dt.datetime | None = None) -> str:
    """"giờ Việt Nam (UTC+07:00)" for the installation's zone, at ``moment`` (now by default)."""
    name = settings.TIME_ZONE
    zone = ZoneInfo(name)
    offset = (moment or timezone.now()).astimezone(zone).strftime("%z")
    utc = f"UTC{offset[:3]}:{offset[3:]}" if offset else "UTC"
    label = ZONE_NAMES.get(name)
    return f"{label} ({utc})" if label is not None else f"{name} ({utc})"


def datetime_help() -> str:
    """Help text of a date-time field organisers fill in."""
    return _("Theo %(zone)s, nhập ngày/tháng/năm và giờ:phút (24 giờ), ví dụ 03/12/2026 và 14:30.") % {
        "zone": zone_label()}
