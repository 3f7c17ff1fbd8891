"""Writes for accounts: creating users and counting failed log-ins."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.accounts.models import LoginThrottle, User
from apps.accounts.selectors import throttle_key, time_zone_names
from apps.core.errors import UserError


def user_create(*, username: str, email: str, password: str) -> User:
    """A new student. Callers validate first (the sign-up form runs Django's password validators)."""
    return User.objects.create_user(username=username, email=email, password=password, role=User.STUDENT)


def user_set_time_zone(*, user: User, time_zone: str) -> User:
    """Set the time zone the user's pages show and read times in; "" is the server's."""
    time_zone = (time_zone or "").strip()
    if time_zone and time_zone not in time_zone_names():
        raise UserError(f"“{time_zone}” is not a time zone; choose one from the list.", field="time_zone")
    user.time_zone = time_zone
    user.save(update_fields=["time_zone"])
    return user


def login_failure_record(*, username: str, ip: str) -> LoginThrottle:
    """Count one failed log-in, for the (username, address) pair and for the username everywhere.

    Both rows are counted under a row lock in one transaction, so failures at the same moment are
    all counted. The pair's count that reaches MIRAGE_LOGIN_MAX_FAILURES within the window locks the
    pair; the account's that reaches MIRAGE_LOGIN_ACCOUNT_MAX_FAILURES locks the username from every
    address, for a time that doubles with each account-wide lock-out."""
    now = timezone.now()
    window = timedelta(minutes=settings.MIRAGE_LOGIN_WINDOW_MINUTES)
    lockout = timedelta(minutes=settings.MIRAGE_LOGIN_LOCKOUT_MINUTES)
    key = throttle_key(username)
    with transaction.atomic():
        pair = _count_failure(username=key, ip=ip, now=now, window=window)
        if pair.failures >= settings.MIRAGE_LOGIN_MAX_FAILURES:
            pair.locked_until = now + lockout
        pair.save()
        account = _count_failure(username=key, ip=None, now=now, window=window)
        if account.failures >= settings.MIRAGE_LOGIN_ACCOUNT_MAX_FAILURES:
            account.locked_until = now + min(lockout * 2**account.lockouts, MAX_ACCOUNT_LOCKOUT)
            account.lockouts += 1
            account.failures = 0
        account.save()
    _forget_stale_throttles(now=now, window=window)
    return pair


MAX_ACCOUNT_LOCKOUT = timedelta(days=1)


def _count_failure(*, username: str, ip: str | None, now, window: timedelta) -> LoginThrottle:
    throttle, _ = LoginThrottle.objects.select_for_update().get_or_create(
        username=username, ip=ip, defaults={"window_started_at": now}
    )
    if throttle.window_started_at <= now - window and not throttle.is_locked(now):
        throttle.failures = 0
        throttle.window_started_at = now
        throttle.locked_until = None
    throttle.failures += 1
    return throttle


def login_success_record(*, username: str, ip: str) -> None:
    """A successful log-in clears the count for its username and address, and the account-wide
    count and back-off (the owner is back)."""
    LoginThrottle.objects.filter(username=throttle_key(username)).filter(
        Q(ip=ip) | Q(ip__isnull=True)
    ).delete()


def _forget_stale_throttles(*, now, window: timedelta) -> None:
    # Guesses at made-up usernames each leave a row; drop those whose window and lock have passed,
    # so the table stays as small as the current attack.
    # Account-wide rows that carry a back-off are kept for a day after their last lock-out.
    LoginThrottle.objects.filter(window_started_at__lte=now - window).filter(
        Q(locked_until__isnull=True) | Q(locked_until__lte=now)
    ).filter(Q(lockouts=0) | Q(locked_until__lte=now - MAX_ACCOUNT_LOCKOUT)).delete()


def login_throttle_clear(*, username: str) -> None:
    """Lift every lock-out on a username: its owner just proved control of the account's email."""
    LoginThrottle.objects.filter(username=throttle_key(username)).delete()
