"""The authentication backend: Django's, with repeated failed log-ins locked out.

Every password log-in that carries a request goes through here — the log-in page and the admin's
log-in page (the API has no password log-in) — so one place enforces the limit for both; the
password-change form's check of the old password uses `password_check` below.
"""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied

from apps.accounts.selectors import login_locked_until
from apps.accounts.services import login_failure_record, login_success_record
from apps.core.ratelimit import client_address


class ThrottledModelBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None or not username:
            # No client to throttle (management commands, the test client's login()).
            return super().authenticate(request, username=username, password=password, **kwargs)
        ip = client_address(request)
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


def password_check(*, request, user, password: str) -> bool:
    """Whether `password` is `user`'s, counted like a log-in (locked out → PermissionDenied), so a
    logged-in session cannot be used to guess the account's password either."""
    ip = client_address(request)
    username = user.get_username()
    if login_locked_until(username=username, ip=ip) is not None:
        raise PermissionDenied("Too many failed attempts.")
    if user.check_password(password):
        return True
    login_failure_record(username=username, ip=ip)
    return False
