"""While the database is away or the disk is full: a plain 503 (or 507) with Retry-After, never a
traceback or a 500.

Django's database layer raises OperationalError / InterfaceError when the server is stopped or the
connection broke; with CONN_HEALTH_CHECKS the next request after the server is back opens a fresh
connection, so nothing needs restarting. A full disk shows as OSError ENOSPC (apps.core.errors.StorageFull
from the file store, or a raw one from a temporary file).

The middleware answers exceptions from views (pages and DRF, whose handler passes these on); the 500
handler (mirage_site/errors.py) asks the same function about exceptions raised in other middleware.
Neither touches the database or renders a template that could.
"""

from __future__ import annotations

import errno
import html
import logging
from collections.abc import Callable

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse

from apps.core.errors import error_body

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5
_DATABASE = (
    503,
    "unavailable",
    "Service unavailable",
    "The database is not reachable for the moment. Nothing you saved is lost; please try again in a few "
    "seconds.",
)
_DISK_FULL = (
    507,
    "storage_full",
    "Out of storage",
    "The server has run out of disk space, so this could not be done. Nothing half-written was kept; "
    "please try again later.",
)


def unavailable_response(request: HttpRequest, exc: BaseException | None) -> HttpResponse | None:
    """The answer for a database outage or a full disk; None for any other exception."""
    if isinstance(exc, OperationalError | InterfaceError):
        status, code, title, message = _DATABASE
    elif isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        status, code, title, message = _DISK_FULL
    else:
        return None
    logger.warning("%s %s answered %s: %s: %s", request.method, request.path, status, type(exc).__name__, exc)
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse(error_body(status, message, code=code), status=status)
    else:
        response = HttpResponse(
            f"<!doctype html><html lang=en><meta charset=utf-8><title>{title} · MIRAGE</title>"
            f"<h1>{title}</h1><p>{html.escape(message)}</p>",
            status=status,
        )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class UnavailableMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        return unavailable_response(request, exception)
