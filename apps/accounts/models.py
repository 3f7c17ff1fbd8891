"""Users and their roles, and the failed log-ins that slow down password guessing."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    """A person using MIRAGE. Students by default; an admin grants the instructor or moderator role."""

    STUDENT = "student"
    INSTRUCTOR = "instructor"
    MODERATOR = "moderator"
    ROLES = [(STUDENT, "Student"), (INSTRUCTOR, "Instructor"), (MODERATOR, "Moderator")]

    role = models.CharField(max_length=20, choices=ROLES, default=STUDENT)
    # An IANA name ("Europe/Madrid"); empty: the server's (settings.TIME_ZONE). Pages show and read
    # times in it (apps.accounts.middleware); times are stored in UTC.
    time_zone = models.CharField(max_length=64, blank=True)

    @property
    def is_instructor(self) -> bool:
        return self.role == self.INSTRUCTOR or self.is_superuser

    @property
    def is_moderator(self) -> bool:
        return self.role == self.MODERATOR or self.is_superuser

    @property
    def roles(self) -> list[str]:
        """What this person may do, as the profile and `/api/me` name it: an administrator (superuser)
        also instructs and moderates; otherwise the role an admin granted, plus staff."""
        if self.is_superuser:
            return ["administrator", self.INSTRUCTOR, self.MODERATOR]
        return [self.role, *(["staff"] if self.is_staff else [])]


class LoginThrottle(models.Model):
    """Failed log-ins for one (username, client address) in the current window, and any lock-out;
    the row without an address counts the username's failures from everywhere.

    The per-address lock-out comes first and soon, so that a stranger guessing someone's password
    cannot lock that person out from their own network; the account-wide one catches guesses
    spread over many addresses, later, and backs off: each lock-out lasts twice the one before
    (up to a day) until the owner logs in or resets the password. The username need not exist.
    """

    username = models.CharField(max_length=150)  # casefolded, as typed
    ip = models.GenericIPAddressField(null=True, blank=True)  # None: from every address
    failures = models.PositiveIntegerField(default=0)
    window_started_at = models.DateTimeField()
    locked_until = models.DateTimeField(null=True, blank=True)
    lockouts = models.PositiveIntegerField(default=0)  # account-wide lock-outs so far (the back-off)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["username", "ip"], name="login_throttle_unique_username_ip", nulls_distinct=False
            ),
        ]
        indexes = [models.Index(fields=["window_started_at"], name="login_throttle_window_idx")]

    def __str__(self) -> str:
        return f"{self.username} from {self.ip}: {self.failures} failed"

    def is_locked(self, now: datetime) -> bool:
        return self.locked_until is not None and self.locked_until > now
