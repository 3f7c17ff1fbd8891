"""Sign-up form: username, email and the password twice, checked by Django's password validators."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.auth import forms as auth_forms
from django.contrib.auth.forms import UserCreationForm
from django.core.exceptions import PermissionDenied

from apps.accounts.backends import password_check
from apps.accounts.models import User
from apps.accounts.selectors import time_zone_names


class SignupForm(UserCreationForm):
    email = forms.EmailField(
        label="Email",
        max_length=254,
        help_text="For password resets only; never shown to other users.",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "email")

    def clean_email(self) -> str:
        # A reset link goes to every account with the address, so each address belongs to one account.
        email = User.objects.normalize_email(self.cleaned_data["email"])
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError("An account with this email address already exists.")
        return email


class TimeZoneForm(forms.Form):
    time_zone = forms.ChoiceField(
        label="Your time zone",
        required=False,
        help_text="Quiz opening and closing times are shown and entered in it.",
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        server = ("", f"The server's ({settings.TIME_ZONE})")
        self.fields["time_zone"].choices = [server, *((name, name) for name in time_zone_names())]


class PasswordChangeForm(auth_forms.PasswordChangeForm):
    """Django's, with the old password checked through the log-in lock-out."""

    def __init__(self, user, *args, request, **kwargs):
        super().__init__(user, *args, **kwargs)
        self.request = request

    def clean_old_password(self):
        old_password = self.cleaned_data["old_password"]
        try:
            correct = password_check(request=self.request, user=self.user, password=old_password)
        except PermissionDenied:
            raise forms.ValidationError(
                "Too many wrong passwords; try again later, or reset your password.", code="locked"
            ) from None
        if not correct:
            raise forms.ValidationError(self.error_messages["password_incorrect"], code="password_incorrect")
        return old_password
