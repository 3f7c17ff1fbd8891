"""Refuse request bodies larger than any upload MIRAGE accepts, before anything reads them."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from apps.core.errors import error_body

# Room for the form fields and multipart framing around the largest accepted file.
FORM_OVERHEAD = 256 * 1024


class UploadLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        limit = settings.MIRAGE_MAX_UPLOAD_BYTES
        if declared > limit + FORM_OVERHEAD:
            size, most = declared / 2**20, limit // 2**20
            message = f"The upload is {size:.1f} MB; files up to {most} MB are accepted."
            if request.path.startswith("/api/"):
                return JsonResponse(error_body(413, message), status=413)
            return render(request, "413.html", {"message": message}, status=413)
        return self.get_response(request)
