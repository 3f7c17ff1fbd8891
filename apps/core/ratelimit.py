"""One rate limiter for pages and API alike.

Each limited action has a scope ("search", "generate", "signup"…) with a rate for logged-in users
and one for anonymous clients (settings: MIRAGE_RATE_LIMITS, from MIRAGE_THROTTLE_<SCOPE>_USER/_ANON).
Requests are counted per user, or per client address for anonymous ones, in fixed windows, in
one database row per (scope, client) updated by a single atomic statement: every web process
shares the count, and two requests at once can never both take the last allowance. A page and
an API request of the same scope draw on the same allowance.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from apps.core.errors import UserError
from apps.core.rates import parse_rate


class RateLimited(UserError):
    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message, status=429)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Rate:
    count: int
    seconds: int

    @classmethod
    def parse(cls, text: str) -> Rate:
        count, seconds = parse_rate(text)
        return cls(count=count, seconds=seconds)


def client_address(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or — only when MIRAGE_TRUSTED_PROXIES names how many
    proxies stand in front of the server — the address the outermost trusted proxy saw, read from
    the right of X-Forwarded-For. Entries a client writes itself stand further left and are
    ignored, so a rotated header buys no fresh allowance."""
    remote = request.META.get("REMOTE_ADDR") or "0.0.0.0"
    proxies = settings.MIRAGE_TRUSTED_PROXIES
    if proxies <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    # Each trusted proxy appends the address it received the request from.
    return forwarded[-proxies] if len(forwarded) >= proxies else remote


def _who(request: HttpRequest) -> tuple[str, str]:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return "user", f"user:{user.pk}"
    return "anon", f"ip:{client_address(request)}"


def rate_limit_hit(*, scope: str, request: HttpRequest) -> None:
    """Count one request of `scope`; raise RateLimited (429) when it is over the allowance."""
    kind, ident = _who(request)
    rate = Rate.parse(settings.MIRAGE_RATE_LIMITS[scope][kind])
    # A count lost in a crash is harmless, so its own commit does not wait for the disk: the setting
    # goes with the count in one message, one transaction. In a caller's transaction it would outlast
    # the count, so there the count simply commits with it.
    asynchronous = "" if connection.in_atomic_block else "SET LOCAL synchronous_commit = off; "
    with connection.cursor() as cursor:
        cursor.execute(
            asynchronous
            + "INSERT INTO core_ratecounter (scope, ident, window_start, hits) VALUES (%s, %s, now(), 1) "
            "ON CONFLICT (scope, ident) DO UPDATE SET "
            "hits = CASE WHEN core_ratecounter.window_start <= now() - make_interval(secs => %s) "
            "THEN 1 ELSE core_ratecounter.hits + 1 END, "
            "window_start = CASE WHEN core_ratecounter.window_start <= now() - make_interval(secs => %s) "
            "THEN now() ELSE core_ratecounter.window_start END "
            "RETURNING hits, EXTRACT(EPOCH FROM window_start + make_interval(secs => %s) - now())",
            [scope, ident, rate.seconds, rate.seconds, rate.seconds],
        )
        if asynchronous:
            cursor.nextset()
        hits, left = cursor.fetchone()
    if hits > rate.count:
        retry_after = max(1, math.ceil(float(left)))
        raise RateLimited(
            f"Too many requests of this kind ({rate.count} per {_period(rate.seconds)}); "
            f"try again in {retry_after} s.",
            retry_after=retry_after,
        )


def _period(seconds: int) -> str:
    return {1: "second", 60: "minute", 3600: "hour", 86400: "day"}.get(seconds, f"{seconds} s")


def rate_limited(
    scope: str,
    *,
    methods: tuple[str, ...] = ("GET", "POST"),
    when: Callable[[HttpRequest], bool] | None = None,
) -> Callable:
    """A page view counted against `scope` (for `methods`, and only requests `when` accepts, e.g. those
    that carry a query); over the allowance it answers a 429 page with Retry-After."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.method in methods and (when is None or when(request)):
                try:
                    rate_limit_hit(scope=scope, request=request)
                except RateLimited as exc:
                    return rate_limited_page(request, exc)
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


def rate_limited_page(request: HttpRequest, exc: RateLimited) -> HttpResponse:
    context = {"title": "Too many requests", "message": str(exc), "status": 429}
    response = render(request, "error.html", context, status=429)
    response["Retry-After"] = str(exc.retry_after)
    return response
