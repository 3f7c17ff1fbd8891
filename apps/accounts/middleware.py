"""Pages show and read times in the time zone of the person logged in (one place for all of them)."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from apps.accounts.selectors import user_time_zone


class TimeZoneMiddleware:
    """Activates the user's time zone for the request (after AuthenticationMiddleware).

    Not for the API: it speaks ISO 8601 with offsets and reads a time without one in the server's
    zone, the same for a session and a token (tokens are checked later, in the view).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if request.path.startswith("/api/") or user is None or not user.is_authenticated:
            timezone.deactivate()
        else:
            try:
                timezone.activate(zoneinfo.ZoneInfo(user_time_zone(user)))
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):  # a name the system no longer knows
                timezone.deactivate()
        return self.get_response(request)
