"""Personal API tokens: a user creates and revokes them on the "API tokens" page."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ApiToken(models.Model):
    """Only a hash of the token is kept; the token itself is shown once, when it is created."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12)  # shown in lists so a user can tell tokens apart
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)  # None: never
    read_only = models.BooleanField(default=False)  # only GET, HEAD and OPTIONS requests

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and not self.is_expired

    @property
    def is_expired(self) -> bool:
        from django.utils import timezone

        return self.expires_at is not None and self.expires_at <= timezone.now()


class RateCounter(models.Model):
    """Requests of one scope from one client (a user or an address) in the current window;
    written only by apps.core.ratelimit's single atomic statement."""

    scope = models.CharField(max_length=40)
    ident = models.CharField(max_length=80)
    window_start = models.DateTimeField()
    hits = models.PositiveIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["scope", "ident"], name="ratecounter_scope_ident")]

    def __str__(self) -> str:
        return f"{self.scope} {self.ident}: {self.hits}"
