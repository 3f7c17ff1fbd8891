"""How a quiz's times read: in the viewer's time zone (activated per request by
apps.accounts.middleware), with the zone's name, so no one has to guess which clock is meant."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone
from django.utils.formats import date_format


def when(moment: datetime | None) -> str:
    if moment is None:
        return ""
    local = timezone.localtime(moment)
    return f"{date_format(local, 'DATETIME_FORMAT')} ({timezone.get_current_timezone_name()})"
