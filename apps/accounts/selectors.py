"""Reads for accounts: log-in lock-outs and what a profile lists."""

from __future__ import annotations

import functools
import zoneinfo
from datetime import datetime

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from apps.accounts.models import LoginThrottle, User
from apps.corpus.models import Image

PROFILE_IMAGES = 50  # the user's own images on the profile page (the API pages with Pagination)


def throttle_key(username: str) -> str:
    """Usernames are matched as typed but counted case-blind, so "Alice" and "alice" share a count."""
    return username.casefold()[:150]


def login_locked_until(*, username: str, ip: str) -> datetime | None:
    """When log-ins for this username from this address are allowed again, or None if they are now
    (the later of the per-address and the account-wide lock-out)."""
    now = timezone.now()
    rows = LoginThrottle.objects.filter(username=throttle_key(username)).filter(Q(ip=ip) | Q(ip__isnull=True))
    locks = [row.locked_until for row in rows if row.is_locked(now)]
    return max(locks) if locks else None


@functools.cache
def time_zone_names() -> list[str]:
    """The IANA time zone names a user may choose, sorted (zoneinfo's, less its legacy aliases)."""
    names = zoneinfo.available_timezones() - {"Factory", "localtime"}
    return sorted(name for name in names if not name.startswith(("posix/", "right/", "SystemV/")))


def user_time_zone(user) -> str:
    """The time zone a user reads and enters times in: their own, else the server's."""
    return getattr(user, "time_zone", "") or settings.TIME_ZONE


def user_images(*, user: User) -> QuerySet[Image]:
    """The images a user made (generated ones), newest first, in every moderation state."""
    return Image.objects.filter(owner=user).select_related("dataset").order_by("-created_at", "-pk")
