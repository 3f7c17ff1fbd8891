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

    @property
    def is_instructor(self) -> bool:
        return self.role == self.INSTRUCTOR or self.is_superuser

    @property
    def is_moderator(self) -> bool:
        return self.role == self.MODERATOR or self.is_superuser


class LoginThrottle(models.Model):
    """Failed log-ins for one (username, client address) in the current window, and any lock-out.

    Keyed on the pair, not on the username alone, so that a stranger guessing someone's password
    cannot lock that person out from their own network. The username need not exist.
    """

    username = models.CharField(max_length=150)  # casefolded, as typed
    ip = models.GenericIPAddressField()
    failures = models.PositiveIntegerField(default=0)
    window_started_at = models.DateTimeField()
    locked_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["username", "ip"], name="login_throttle_unique_username_ip"),
        ]
        indexes = [models.Index(fields=["window_started_at"], name="login_throttle_window_idx")]

    def __str__(self) -> str:
        return f"{self.username} from {self.ip}: {self.failures} failed"

    def is_locked(self, now: datetime) -> bool:
        return self.locked_until is not None and self.locked_until > now
