"""What every app's API views share: the error envelope as DRF answers it, and small helpers."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404
from drf_spectacular.utils import inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from apps.core.errors import UserError, error_body

# The error shape, for the OpenAPI schema: `responses={400: ERROR, …}`.
ERROR = inline_serializer(
    "Error",
    {
        "error": inline_serializer(
            "ErrorBody",
            {
                "code": serializers.CharField(),
                "message": serializers.CharField(),
                "fields": serializers.DictField(child=serializers.ListField(child=serializers.CharField())),
            },
        )
    },
)


def error_response(status_code: int, message: str, *, code: str | None = None, fields=None) -> Response:
    return Response(error_body(status_code, message, code=code, fields=fields), status=status_code)


def _flatten(detail) -> dict[str, list[str]]:
    if isinstance(detail, dict):
        return {str(k): [str(m) for m in (v if isinstance(v, list) else [v])] for k, v in detail.items()}
    return {}


def exception_handler(exc, context):
    if isinstance(exc, UserError):
        return error_response(exc.status, str(exc), fields={exc.field: [str(exc)]} if exc.field else None)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or "Not found.")
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or "You may not do that.")
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a bug: Django's 500 handling and logging take over
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        message = "Some fields are not valid." if fields else " ".join(map(str, exc.detail))
        if isinstance(exc.detail, dict) and list(exc.detail) == ["non_field_errors"]:
            message, fields = " ".join(fields["non_field_errors"]), {}
        return error_response(status.HTTP_400_BAD_REQUEST, message, fields=fields)
    detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
    message = str(detail) if not isinstance(detail, dict | list) else "Request failed."
    out = error_response(response.status_code, message)
    for header in ("Retry-After", "WWW-Authenticate", "Allow"):
        if header in response:
            out[header] = response[header]
    return out


class Pagination(PageNumberPagination):
    """Every API list pages the same way: `?page=` and `?page_size=` (up to 100)."""

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100


class DownloadNegotiation(DefaultContentNegotiation):
    """Downloads (ZIP, CSV) bypass the renderers; errors are always JSON, whatever `Accept` says."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


def validated(serializer_class, data) -> dict:
    """Validate `data` with a serializer class; a 400 with the field errors when it does not fit."""
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
