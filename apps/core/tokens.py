"""API tokens: create, revoke, authenticate."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.utils import timezone

from apps.core.errors import UserError
from apps.core.models import ApiToken

TOKEN_PREFIX = "mrg_"
MAX_ACTIVE_TOKENS = 20
DEFAULT_LIFETIME_DAYS = 90
LIFETIME_CHOICES = {"30": "30 days", "90": "90 days", "365": "one year", "never": "never expires"}


class TokenError(UserError):
    """A token request the user must change; the message is shown as it is."""


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _active(tokens):
    now = timezone.now()
    return tokens.filter(revoked_at__isnull=True).filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))


@transaction.atomic
def api_token_create(
    *, user, name: str, lifetime: str = str(DEFAULT_LIFETIME_DAYS), read_only: bool = False
) -> tuple[ApiToken, str]:
    """A new token for `user`; returns the row and the token, which is never shown again.

    `lifetime` is a key of LIFETIME_CHOICES (days, or "never"); a read-only token may only read."""
    if lifetime not in LIFETIME_CHOICES:
        raise TokenError(f"Choose how long the token lives: {', '.join(LIFETIME_CHOICES.values())}.")
    expires_at = None if lifetime == "never" else timezone.now() + timedelta(days=int(lifetime))
    name = " ".join((name or "").split())
    if not name:
        raise TokenError("Give the token a name, e.g. the script or machine that will use it.")
    if len(name) > 100:
        raise TokenError("A token name can be at most 100 characters long.")
    if _active(ApiToken.objects.filter(user=user)).count() >= MAX_ACTIVE_TOKENS:
        raise TokenError(f"You already have {MAX_ACTIVE_TOKENS} active tokens; revoke one first.")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name, prefix=raw[:12], key_hash=_hash(raw), expires_at=expires_at, read_only=read_only
    )
    return token, raw


def api_token_revoke(*, user, pk: int) -> ApiToken:
    """Revoke one of the user's tokens (404 for anyone else's)."""
    token = ApiToken.objects.filter(user=user, pk=pk).first()
    if token is None:
        raise Http404("No such token.")
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def api_tokens_revoke_all(*, user) -> int:
    """Revoke every token of `user` (a changed or reset password ends what the old one allowed)."""
    return ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())


def api_tokens_of(user):
    """The user's tokens, newest first (revoked ones too, so the page can show when)."""
    return ApiToken.objects.filter(user=user).order_by("-created_at")


def api_token_get(raw: str) -> ApiToken | None:
    """The live token (not revoked, not expired, of an active user) that `raw` is, or None."""
    if not raw.startswith(TOKEN_PREFIX):
        return None
    token = _active(ApiToken.objects.select_related("user").filter(key_hash=_hash(raw))).first()
    if token is None or not token.user.is_active:
        return None
    # Record use at most once a minute: a busy script should not write on every request.
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token
