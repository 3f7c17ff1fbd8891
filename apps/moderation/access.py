"""Who may moderate: the one access check every moderation page and endpoint uses."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse


def moderator_check(user) -> None:
    """403 for anyone but a moderator (or a superuser)."""
    if not getattr(user, "is_moderator", False):
        raise PermissionDenied("Only moderators can do this.")


def moderator_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Anonymous visitors are sent to log in; logged-in non-moderators get 403."""

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        moderator_check(request.user)
        return view(request, *args, **kwargs)

    return wrapped
