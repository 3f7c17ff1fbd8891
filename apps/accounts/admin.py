"""Admins grant roles here: the user list filters and edits the role in place."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils import timezone

from apps.accounts.models import LoginThrottle, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "email", "role", "is_staff", "is_superuser", "is_active", "date_joined")
    list_editable = ("role",)
    list_filter = ("role", "is_staff", "is_superuser", "is_active")
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (
            "Role",
            {"fields": ("role",), "description": "Instructors build quizzes; moderators review images."},
        ),
        ("Personal info", {"fields": ("first_name", "last_name", "email")}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "email", "role", "usable_password", "password1", "password2"),
            },
        ),
    )


@admin.register(LoginThrottle)
class LoginThrottleAdmin(admin.ModelAdmin):
    """Failed log-ins being counted; deleting a row lifts its lock-out."""

    list_display = ("username", "ip", "failures", "window_started_at", "locked_until", "locked_now")
    search_fields = ("username", "ip")
    readonly_fields = ("username", "ip", "failures", "window_started_at", "locked_until")

    def has_add_permission(self, request) -> bool:
        return False

    @admin.display(boolean=True, description="Locked now")
    def locked_now(self, obj: LoginThrottle) -> bool:
        return obj.is_locked(timezone.now())
