"""Moderation: reports about images, and the audit trail of every moderator's decision."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from apps.corpus.models import Image


class Decision(models.Model):
    """One moderator decision about one image: who, when, what and why. Rows are never changed.

    The image and the moderator are also kept as text, so the trail outlives a deleted image or account.
    """

    APPROVE = "approve"
    REJECT = "reject"
    DISMISS = "dismiss"
    ACTIONS = [(APPROVE, "approved"), (REJECT, "rejected"), (DISMISS, "dismissed the reports")]

    image = models.ForeignKey(
        Image, null=True, blank=True, on_delete=models.SET_NULL, related_name="moderation_decisions"
    )
    image_label = models.CharField(max_length=300)
    moderator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="moderation_decisions",
    )
    moderator_name = models.CharField(max_length=150)
    action = models.CharField(max_length=10, choices=ACTIONS)
    reason = models.TextField(blank=True)
    state_before = models.CharField(max_length=10, choices=Image.MODERATION_STATES)
    state_after = models.CharField(max_length=10, choices=Image.MODERATION_STATES)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.moderator_name} {self.get_action_display()} {self.image_label}"


class Report(models.Model):
    """A user's report that an image should not be shown. Open until a decision resolves it."""

    image = models.ForeignKey(Image, on_delete=models.CASCADE, related_name="reports")
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="image_reports",
    )
    reason = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    decision = models.ForeignKey(
        Decision, null=True, blank=True, on_delete=models.PROTECT, related_name="reports"
    )

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["image", "reporter"],
                condition=models.Q(decision__isnull=True),
                name="report_one_open_per_reporter_and_image",
            ),
        ]

    def __str__(self) -> str:
        return f"report on {self.image_id} by {self.reporter_id}"

    @property
    def is_open(self) -> bool:
        return self.decision_id is None


class DescriptionFlag(models.Model):
    """A reader's flag that a written description is wrong, unsupported by its captions or unsafe.

    Open until a moderator resolves it; the resolved row (who, when, what, why) is its audit record.
    """

    WRONG = "wrong"
    UNSUPPORTED = "unsupported"
    UNSAFE = "unsafe"
    KINDS = [
        (WRONG, "Wrong: it says something untrue"),
        (UNSUPPORTED, "Not supported by the cited captions"),
        (UNSAFE, "Unsafe: reads as medical advice, or harmful"),
    ]
    UPHELD = "upheld"
    DISMISSED = "dismissed"
    RESOLUTIONS = [(UPHELD, "upheld: the description is at fault"), (DISMISSED, "dismissed")]

    description = models.ForeignKey("generation.Description", on_delete=models.CASCADE, related_name="flags")
    flagger = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=12, choices=KINDS)
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    resolution = models.CharField(max_length=10, choices=RESOLUTIONS, blank=True)
    resolution_note = models.TextField(blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolver_name = models.CharField(max_length=150, blank=True)  # outlives a deleted account
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["description", "flagger"],
                condition=models.Q(resolved_at__isnull=True),
                name="description_flag_one_open_per_flagger",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} flag on description {self.description_id}"
