"""The audit trail and reports, readable in the admin but never edited there: decisions are made
on the moderation pages, through the service that logs them."""

from __future__ import annotations

from django.contrib import admin

from apps.moderation.models import Decision, Report


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Decision)
class DecisionAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "moderator_name", "action", "image_label", "state_before", "state_after")
    list_filter = ("action", "state_after")
    search_fields = ("image_label", "moderator_name", "reason")
    date_hierarchy = "created_at"


@admin.register(Report)
class ReportAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "image", "reporter", "is_open")
    list_filter = (("decision", admin.EmptyFieldListFilter),)
    search_fields = ("reason", "reporter__username")

    @admin.display(boolean=True, description="Open")
    def is_open(self, obj: Report) -> bool:
        return obj.is_open
