"""Writes for accounts: creating users and counting failed log-ins."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.accounts.models import LoginThrottle, User
from apps.accounts.selectors import throttle_key


def user_create(*, username: str, email: str, password: str) -> User:
    """A new student. Callers validate first (the sign-up form runs Django's password validators)."""
    return User.objects.create_user(username=username, email=email, password=password, role=User.STUDENT)


def login_failure_record(*, username: str, ip: str) -> LoginThrottle:
    """Count one failed log-in; the one that reaches the limit within the window starts a lock-out."""
    now = timezone.now()
    window = timedelta(minutes=settings.MIRAGE_LOGIN_WINDOW_MINUTES)
    with transaction.atomic():
        throttle, _ = LoginThrottle.objects.select_for_update().get_or_create(
            username=throttle_key(username), ip=ip, defaults={"window_started_at": now}
        )
        if throttle.window_started_at <= now - window and not throttle.is_locked(now):
            throttle.failures = 0
            throttle.window_started_at = now
            throttle.locked_until = None
        throttle.failures += 1
        if throttle.failures >= settings.MIRAGE_LOGIN_MAX_FAILURES:
            throttle.locked_until = now + timedelta(minutes=settings.MIRAGE_LOGIN_LOCKOUT_MINUTES)
        throttle.save()
    _forget_stale_throttles(now=now, window=window)
    return throttle


def login_success_record(*, username: str, ip: str) -> None:
    """A successful log-in clears the count for its username and address."""
    LoginThrottle.objects.filter(username=throttle_key(username), ip=ip).delete()


def _forget_stale_throttles(*, now, window: timedelta) -> None:
    # Guesses at made-up usernames each leave a row; drop those whose window and lock have passed,
    # so the table stays as small as the current attack.
    LoginThrottle.objects.filter(window_started_at__lte=now - window).filter(
        Q(locked_until__isnull=True) | Q(locked_until__lte=now)
    ).delete()


def login_throttle_clear(*, username: str) -> None:
    """Lift every lock-out on a username: its owner just proved control of the account's email."""
    LoginThrottle.objects.filter(username=throttle_key(username)).delete()
