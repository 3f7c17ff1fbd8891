"""Jobs and cached descriptions for administrators: read-only, since the worker owns their state."""

from __future__ import annotations

from django.contrib import admin

from apps.generation.models import Description, GeneratedImage, Job


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Job)
class JobAdmin(ReadOnlyAdmin):
    list_display = ("pk", "kind", "owner", "status", "attempts", "progress_message", "worker", "created_at")
    list_filter = ("status", "kind")
    search_fields = ("owner__username", "error")
    date_hierarchy = "created_at"


@admin.register(Description)
class DescriptionAdmin(ReadOnlyAdmin):
    list_display = (
        "query",
        "model_label",
        "k",
        "is_fallback",
        "cited_share",
        "new_tokens",
        "seconds",
        "created_at",
    )
    list_filter = ("model_label", "is_fallback")
    search_fields = ("query", "answer")


@admin.register(GeneratedImage)
class GeneratedImageAdmin(ReadOnlyAdmin):
    list_display = ("image", "job", "index", "seed")
