"""Moderation as JSON: images as moderators see them, reports, decisions, and the two requests."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.corpus.serializers import ImageSerializer
from apps.moderation.models import Decision, DescriptionFlag, Report
from apps.moderation.selectors import QUEUE_KINDS
from apps.moderation.services import MAX_REASON_CHARS

REASON_HELP = "Why a moderator rejected the image; empty otherwise"
OWNER_HELP = "Username of a generated image's author; null for a corpus image or a deleted account"


def _username(user) -> str | None:
    # Null once the account is deleted: reports and decisions outlive it.
    return user.get_username() if user is not None else None


class ReportSerializer(serializers.ModelSerializer):
    reporter = serializers.SerializerMethodField(help_text="Null when the account has been deleted")

    class Meta:
        model = Report
        fields = ["id", "image", "reporter", "reason", "created_at"]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_reporter(self, report: Report) -> str | None:
        return _username(report.reporter)


class DecisionSerializer(serializers.ModelSerializer):
    image = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True, help_text="Null when the image has been deleted; see image_label"
    )
    moderator = serializers.CharField(source="moderator_name", read_only=True)
    # Plain strings: as enums they would give Image.moderation_state's choice set two more names in
    # the schema (a spectacular warning); the values are the same: approved, pending, rejected.
    state_before = serializers.CharField(read_only=True, help_text="approved, pending or rejected")
    state_after = serializers.CharField(read_only=True, help_text="approved, pending or rejected")
    reports = ReportSerializer(many=True, read_only=True, help_text="The open reports this decision closed")

    class Meta:
        model = Decision
        fields = [
            "id",
            "image",
            "image_label",
            "moderator",
            "action",
            "reason",
            "state_before",
            "state_after",
            "created_at",
            "reports",
        ]
        read_only_fields = fields


class QueueItemSerializer(serializers.Serializer):
    """One image waiting for a moderator (a row of `moderation_queue`)."""

    image = ImageSerializer(source="*")
    owner = serializers.SerializerMethodField(help_text=OWNER_HELP)
    moderation_reason = serializers.CharField(help_text=REASON_HELP)
    waiting_since = serializers.DateTimeField(
        help_text="When it was made (pending) or first reported, whichever put it in the queue"
    )
    open_reports = ReportSerializer(many=True)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_owner(self, image) -> str | None:
        return _username(image.owner)


class ReviewSerializer(serializers.Serializer):
    """One image as a moderator reviews it (`image_review`)."""

    image = ImageSerializer()
    owner = serializers.SerializerMethodField(help_text=OWNER_HELP)
    moderation_reason = serializers.CharField(source="image.moderation_reason", help_text=REASON_HELP)
    open_reports = ReportSerializer(many=True)
    history = DecisionSerializer(many=True, help_text="Decisions on this image, newest first")

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_owner(self, review) -> str | None:
        return _username(review.image.owner)


class QueueParamsSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=list(QUEUE_KINDS),
        default="all",
        help_text="pending: new generated images; reported: images with open reports; all: both",
    )


class LogParamsSerializer(serializers.Serializer):
    image = serializers.IntegerField(required=False, min_value=1, help_text="Only decisions on this image")


class DecideSerializer(serializers.Serializer):
    # Named as in the decision it creates (the page's form calls it `decision`).
    action = serializers.ChoiceField(
        choices=Decision.ACTIONS, help_text="approve, reject or dismiss (the reports)"
    )
    reason = serializers.CharField(
        allow_blank=True,
        default="",
        max_length=MAX_REASON_CHARS,
        help_text="Required to reject: the image's author reads it",
    )


class ReportRequestSerializer(serializers.Serializer):
    reason = serializers.CharField(
        max_length=MAX_REASON_CHARS,
        allow_blank=True,  # the service says what a report needs, as on the page
        help_text="What is wrong with this image (a wrong caption, an identifiable patient…)",
    )


class DescriptionFlagSerializer(serializers.ModelSerializer):
    """A flag on a written description, and how a moderator resolved it."""

    flagger = serializers.CharField(source="flagger.username", read_only=True, default=None)
    query = serializers.CharField(source="description.query", read_only=True)

    class Meta:
        model = DescriptionFlag
        fields = [
            "id",
            "description",
            "query",
            "kind",
            "comment",
            "flagger",
            "created_at",
            "resolution",
            "resolution_note",
            "resolver_name",
            "resolved_at",
        ]
        read_only_fields = fields


class DescriptionFlagRequestSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=DescriptionFlag.KINDS)
    comment = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class DescriptionFlagResolveSerializer(serializers.Serializer):
    resolution = serializers.ChoiceField(choices=DescriptionFlag.RESOLUTIONS)
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)
