"""Study sets ("saved collections"): a user's ordered list of corpus images, each with a note."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models


def new_share_token() -> str:
    """The secret part of an unlisted set's link: 128 random bits, so the link cannot be guessed."""
    return secrets.token_urlsafe(16)


class StudySet(models.Model):
    PRIVATE = "private"
    UNLISTED = "unlisted"
    PUBLIC = "public"
    VISIBILITIES = [
        (PRIVATE, "Private: only you"),
        (UNLISTED, "Unlisted: anyone with the link"),
        (PUBLIC, "Public: listed for everyone"),
    ]

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="studysets")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    visibility = models.CharField(max_length=10, choices=VISIBILITIES, default=PRIVATE)
    share_token = models.CharField(max_length=32, default=new_share_token, unique=True)
    # Notes are the owner's own until they choose to share them with everyone who can open the set.
    share_notes = models.BooleanField(default=False)
    copied_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-pk"]
        indexes = [models.Index(fields=["visibility", "title"], name="studyset_visibility_title_idx")]

    def __str__(self) -> str:
        return self.title

    @property
    def is_public(self) -> bool:
        return self.visibility == self.PUBLIC

    @property
    def is_unlisted(self) -> bool:
        return self.visibility == self.UNLISTED


class StudySetItem(models.Model):
    studyset = models.ForeignKey(StudySet, on_delete=models.CASCADE, related_name="items")
    image = models.ForeignKey("corpus.Image", on_delete=models.CASCADE, related_name="studyset_items")
    note = models.TextField(blank=True)
    position = models.PositiveIntegerField()
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["studyset", "image"], name="studyset_item_unique_image"),
        ]

    def __str__(self) -> str:
        return f"{self.image_id} in {self.studyset_id}"
