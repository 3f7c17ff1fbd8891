"""The authentication backend: Django's, with repeated failed log-ins locked out.

Every password log-in that carries a request goes through here — the log-in page and the admin's
log-in page (the API takes no passwords, only Bearer tokens) — so one place enforces the limit.
"""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from apps.accounts.selectors import login_locked_until
from apps.accounts.services import login_failure_record, login_success_record


def client_ip(request: HttpRequest) -> str:
    """The address the request came from. Behind a reverse proxy, the proxy must set REMOTE_ADDR
    to the client's address (e.g. gunicorn's --forwarded-allow-ips); headers are not trusted here."""
    return request.META.get("REMOTE_ADDR") or "0.0.0.0"


class ThrottledModelBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None or not username:
            # No client to throttle (management commands, the test client's login()).
            return super().authenticate(request, username=username, password=password, **kwargs)
        ip = client_ip(request)
        if login_locked_until(username=username, ip=ip) is not None:
            # Stops authenticate() without even checking the password: a lock-out must not
            # double as an oracle for the right one.
            raise PermissionDenied("Too many failed log-ins.")
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            login_failure_record(username=username, ip=ip)
        else:
            login_success_record(username=username, ip=ip)
        return user
