"""The current user, and their own images, as JSON."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.accounts.models import User
from apps.accounts.selectors import user_time_zone
from apps.corpus.serializers import ImageSerializer


class MeSerializer(serializers.ModelSerializer):
    email = serializers.SerializerMethodField(help_text="Null when the account has none")
    is_instructor = serializers.BooleanField(read_only=True, help_text="May build quizzes")
    is_moderator = serializers.BooleanField(read_only=True, help_text="May review images")
    roles = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        help_text="All that the account may do: administrator, instructor, moderator, student, staff",
    )

    time_zone = serializers.SerializerMethodField(
        help_text="The IANA time zone the pages show times in (set on the profile page)"
    )

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "email",
            "role",
            "roles",
            "is_instructor",
            "is_moderator",
            "is_staff",
            "time_zone",
            "date_joined",
        ]
        read_only_fields = fields

    def get_time_zone(self, user: User) -> str:
        return user_time_zone(user)

    # An empty address in the database is null here, not an "" that breaks the email format.
    @extend_schema_field(serializers.EmailField(allow_null=True))
    def get_email(self, user: User) -> str | None:
        return user.email or None


class OwnImageSerializer(serializers.Serializer):
    """One of the user's generated images, with the reason a moderator gave for rejecting it."""

    image = ImageSerializer(source="*")
    moderation_reason = serializers.CharField(help_text="Why a moderator rejected it; empty otherwise")
