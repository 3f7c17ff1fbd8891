"""Study sets as JSON, and what the API accepts to change them."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.corpus.serializers import ImageSerializer
from apps.studysets.models import StudySet, StudySetItem
from apps.studysets.services import MAX_NOTE, MAX_TITLE

# Database ids are 64-bit: a larger number is refused as invalid rather than sent to PostgreSQL.
MAX_ID = 2**63 - 1


def _absolute(request, url: str) -> str:
    return request.build_absolute_uri(url) if request is not None else url


class StudySetSerializer(serializers.ModelSerializer):
    """A set as lists show it: `item_count` counts the images the viewer can see."""

    owner = serializers.CharField(source="owner.username", read_only=True)
    item_count = serializers.IntegerField(read_only=True)
    page_url = serializers.SerializerMethodField()

    class Meta:
        model = StudySet
        fields = [
            "id",
            "title",
            "description",
            "visibility",
            "share_notes",
            "owner",
            "item_count",
            "copied_from",
            "created_at",
            "updated_at",
            "page_url",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_page_url(self, studyset: StudySet) -> str:
        return _absolute(self.context.get("request"), reverse("studysets:detail", args=[studyset.pk]))


class StudySetItemSerializer(serializers.ModelSerializer):
    place = serializers.SerializerMethodField(help_text="1 = first, among the items you can see")
    image = ImageSerializer(read_only=True)
    note = serializers.SerializerMethodField(
        help_text="The owner's note; null when the owner keeps the set's notes private"
    )

    class Meta:
        model = StudySetItem
        fields = ["id", "place", "note", "added_at", "image"]
        read_only_fields = fields

    def get_note(self, item: StudySetItem) -> str | None:
        return item.note if self.context["show_notes"] else None

    def get_place(self, item: StudySetItem) -> int:
        return self.context["places"][item.pk]


class StudySetDetailSerializer(StudySetSerializer):
    """A set with its items. The owner also gets the unlisted link and the count of hidden items."""

    item_count = serializers.SerializerMethodField()
    is_owner = serializers.SerializerMethodField()
    items = serializers.SerializerMethodField()
    hidden_count = serializers.SerializerMethodField(
        help_text="Your items whose image you can no longer see (rejected by moderation); null "
        "unless you own the set"
    )
    share_token = serializers.SerializerMethodField(
        help_text="Opens an unlisted set: `?token=` here, or the share_url page; null unless you own the set"
    )
    share_url = serializers.SerializerMethodField()

    class Meta(StudySetSerializer.Meta):
        fields = [
            *StudySetSerializer.Meta.fields,
            "is_owner",
            "hidden_count",
            "share_token",
            "share_url",
            "items",
        ]
        read_only_fields = fields

    def get_is_owner(self, studyset: StudySet) -> bool:
        return self.context["is_owner"]

    def get_hidden_count(self, studyset: StudySet) -> int | None:
        return self.context["hidden_count"] if self.context["is_owner"] else None

    def get_share_token(self, studyset: StudySet) -> str | None:
        return studyset.share_token if self.context["is_owner"] else None

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_share_url(self, studyset: StudySet) -> str | None:
        if not self.context["is_owner"]:
            return None
        url = reverse("studysets:shared", args=[studyset.pk, studyset.share_token])
        return _absolute(self.context.get("request"), url)

    def get_item_count(self, studyset: StudySet) -> int:
        return len(self.context["items"])

    @extend_schema_field(StudySetItemSerializer(many=True))
    def get_items(self, studyset: StudySet) -> list[dict]:
        return StudySetItemSerializer(self.context["items"], many=True, context=self.context).data


class StudySetWriteSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=MAX_TITLE)
    description = serializers.CharField(required=False, allow_blank=True)
    visibility = serializers.ChoiceField(choices=StudySet.VISIBILITIES, required=False)
    share_notes = serializers.BooleanField(
        required=False,
        help_text="Let everyone who can open the set read its notes (false, the default: only you)",
    )


class StudySetUpdateSerializer(StudySetWriteSerializer):
    title = serializers.CharField(max_length=MAX_TITLE, required=False)


class PublicQuerySerializer(serializers.Serializer):
    q = serializers.CharField(
        required=False, allow_blank=True, max_length=200, help_text="Only sets whose title contains this"
    )


class TokenQuerySerializer(serializers.Serializer):
    token = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=100,
        help_text="The link token of an unlisted set (its owner finds it in `share_token`)",
    )


class ItemAddSerializer(serializers.Serializer):
    image = serializers.IntegerField(min_value=1, max_value=MAX_ID, help_text="The image's id")
    note = serializers.CharField(required=False, allow_blank=True, max_length=MAX_NOTE)


class ItemUpdateSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=MAX_NOTE)
    place = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_ID, help_text="Move the item here (1 = first)"
    )


class ItemMoveSerializer(serializers.Serializer):
    direction = serializers.ChoiceField(choices=["up", "down"])


class CopySerializer(serializers.Serializer):
    token = serializers.CharField(
        required=False, allow_blank=True, max_length=100, help_text="The link token, to copy an unlisted set"
    )
