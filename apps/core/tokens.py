"""API tokens: create, revoke, authenticate."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.db import transaction
from django.http import Http404
from django.utils import timezone

from apps.core.errors import UserError
from apps.core.models import ApiToken

TOKEN_PREFIX = "mrg_"
MAX_ACTIVE_TOKENS = 20


class TokenError(UserError):
    """A token request the user must change; the message is shown as it is."""


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def api_token_create(*, user, name: str) -> tuple[ApiToken, str]:
    """A new token for `user`; returns the row and the token, which is never shown again."""
    name = " ".join((name or "").split())
    if not name:
        raise TokenError("Give the token a name, e.g. the script or machine that will use it.")
    if len(name) > 100:
        raise TokenError("A token name can be at most 100 characters long.")
    if ApiToken.objects.filter(user=user, revoked_at__isnull=True).count() >= MAX_ACTIVE_TOKENS:
        raise TokenError(f"You already have {MAX_ACTIVE_TOKENS} active tokens; revoke one first.")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, name=name, prefix=raw[:12], key_hash=_hash(raw))
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


def api_tokens_of(user):
    """The user's tokens, newest first (revoked ones too, so the page can show when)."""
    return ApiToken.objects.filter(user=user).order_by("-created_at")


def api_token_user(raw: str):
    """The active user a token belongs to, or None."""
    if not raw.startswith(TOKEN_PREFIX):
        return None
    token = (
        ApiToken.objects.select_related("user").filter(key_hash=_hash(raw), revoked_at__isnull=True).first()
    )
    if token is None or not token.user.is_active:
        return None
    # Record use at most once a minute: a busy script should not write on every request.
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
