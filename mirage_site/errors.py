"""Error pages: JSON under /api/, pages that explain themselves elsewhere."""

from __future__ import annotations

import sys

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from apps.core.errors import error_body
from mirage_site.unavailable import unavailable_response

MESSAGES = {
    400: ("Bad request", "The request could not be understood."),
    403: ("Not allowed", "You may not open this page or do this."),
    404: ("Not found", "There is nothing here, or it is not shared with you."),
    500: ("Something went wrong", "The error has been logged. Please try again in a moment."),
}


def _error(request: HttpRequest, status: int, detail: str = "") -> HttpResponse:
    title, message = MESSAGES[status]
    if request.path.startswith("/api/"):
        return JsonResponse(error_body(status, detail or message), status=status)
    context = {"title": title, "message": detail or message, "status": status}
    return render(request, "error.html", context, status=status)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    return _error(request, 400)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    return _error(request, 403, str(exception) if exception.args else "")


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    return _error(request, 404)


def server_error(request: HttpRequest) -> HttpResponse:
    # Raised outside a view (in a middleware), a database outage or a full disk still answers 503/507.
    if unavailable := unavailable_response(request, sys.exc_info()[1]):
        return unavailable
    if request.path.startswith("/api/"):
        return _error(request, 500)
    # No template context processors: whatever failed may fail again while rendering.
    return HttpResponse(
        "<!doctype html><title>Server error · MIRAGE</title><h1>Something went wrong</h1>"
        "<p>The error has been logged. Please try again in a moment.</p>",
        status=500,
    )
