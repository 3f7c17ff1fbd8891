"""Moderation test set-up: the five kinds of visitor, and synthetic images made directly (creating
them through generation is another app's job)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from apps.corpus.models import Image
from tests import factories

ROLES = ["owner", "student", "instructor", "moderator", "anonymous"]


def synthetic_image(caption: str, *, owner, state: str = Image.PENDING, reason: str = "") -> Image:
    """A generated image as the generation app leaves it: synthetic, owned, pending review."""
    (image,) = factories.images(caption, slug="generated")
    Image.objects.filter(pk=image.pk).update(
        is_synthetic=True, owner=owner, moderation_state=state, moderation_reason=reason
    )
    image.refresh_from_db()
    return image


@pytest.fixture
def people(db) -> SimpleNamespace:
    return SimpleNamespace(
        owner=factories.user("owner"),
        student=factories.user("student"),
        instructor=factories.user("instructor", role="instructor"),
        moderator=factories.user("moderator", role="moderator"),
        anonymous=None,
    )


@pytest.fixture
def visit(client, people):
    """`visit(role)` → the test client logged in as that person (or anonymous), and the person."""

    def as_role(role: str):
        person = getattr(people, role)
        if person is not None:
            client.force_login(person)
        return client, person

    return as_role
