"""Account pages. Django's auth views do the work; these add sign-up, the profile, the lock-out
and the API token pages."""

from __future__ import annotations

import math

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from apps.accounts.forms import PasswordChangeForm, SignupForm, TimeZoneForm
from apps.accounts.redirects import safe_next
from apps.accounts.selectors import PROFILE_IMAGES, login_locked_until, user_images, user_time_zone
from apps.accounts.services import login_throttle_clear, user_create, user_set_time_zone
from apps.core.errors import UserError
from apps.core.ratelimit import client_address, rate_limited
from apps.core.tokens import (
    DEFAULT_LIFETIME_DAYS,
    TokenError,
    api_token_create,
    api_token_revoke,
    api_tokens_of,
    api_tokens_revoke_all,
)


@sensitive_post_parameters("password1", "password2")
@rate_limited("signup", methods=("POST",))
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("accounts:profile")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                user = user_create(username=data["username"], email=data["email"], password=data["password1"])
        except IntegrityError:
            # Someone took the name between the form's check and the insert.
            form.add_error("username", "A user with that username already exists.")
        else:
            login(request, user)
            messages.success(request, f"Welcome to MIRAGE, {user.username}. You are logged in.")
            return redirect(safe_next(request) or reverse("accounts:profile"))
    status = 400 if form.is_bound else 200
    return render(request, "accounts/signup.html", {"form": form, "next": safe_next(request)}, status=status)


class LoginView(auth_views.LoginView):
    """Django's log-in page; while a username is locked out from this address it answers 429."""

    redirect_authenticated_user = True

    def form_invalid(self, form):
        username = form.data.get("username", "")
        until = login_locked_until(username=username, ip=client_address(self.request)) if username else None
        if until is None:
            return self.render_to_response(self.get_context_data(form=form), status=400)
        minutes = max(1, math.ceil((until - timezone.now()).total_seconds() / 60))
        form.errors.clear()
        form.add_error(
            None,
            ValidationError(
                f"Too many failed log-ins for “{username}” from your network. "
                f"Try again in {minutes} minute{'s' if minutes != 1 else ''}, or reset your password.",
                code="locked",
            ),
        )
        response = self.render_to_response(self.get_context_data(form=form), status=429)
        response["Retry-After"] = str(minutes * 60)
        return response


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    success_url = reverse_lazy("accounts:password_reset_complete")

    def form_valid(self, form):
        response = super().form_valid(form)
        login_throttle_clear(username=form.user.get_username())
        api_tokens_revoke_all(user=form.user)
        return response


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's, with the old password counted like a log-in; the user's API tokens end with it."""

    success_url = reverse_lazy("accounts:password_change_done")
    form_class = PasswordChangeForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "request": self.request}

    def form_invalid(self, form):
        status = 429 if form.has_error("old_password", "locked") else 400
        return self.render_to_response(self.get_context_data(form=form), status=status)

    def form_valid(self, form):
        response = super().form_valid(form)
        api_tokens_revoke_all(user=form.user)
        return response


@login_required
@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    """The profile; its one form sets the user's time zone."""
    form = TimeZoneForm(request.POST or None, initial={"time_zone": request.user.time_zone})
    status_code = 200
    if request.method == "POST":
        status_code = 400
        if form.is_valid():
            try:
                user_set_time_zone(user=request.user, time_zone=form.cleaned_data["time_zone"])
            except UserError as exc:
                form.add_error("time_zone", str(exc))
                status_code = exc.status
            else:
                messages.success(request, f"Times are now shown in {user_time_zone(request.user)}.")
                return redirect(safe_next(request) or reverse("accounts:profile"))
    images = user_images(user=request.user)
    context = {"images": images[:PROFILE_IMAGES], "image_count": images.count(), "time_zone_form": form}
    return render(request, "accounts/profile.html", context, status=status_code)


@login_required
@require_http_methods(["GET", "POST"])
def tokens_page(request: HttpRequest) -> HttpResponse:
    new_token = None
    status_code = 200
    if request.method == "POST":
        try:
            _, new_token = api_token_create(
                user=request.user,
                name=request.POST.get("name", ""),
                lifetime=request.POST.get("lifetime", str(DEFAULT_LIFETIME_DAYS)),
                read_only=request.POST.get("read_only") == "on",
            )
        except TokenError as exc:
            messages.error(request, str(exc))
            status_code = 400
    tokens = api_tokens_of(request.user)
    return render(
        request, "accounts/tokens.html", {"tokens": tokens, "new_token": new_token}, status=status_code
    )


@login_required
@require_http_methods(["GET", "POST"])
def token_revoke_page(request: HttpRequest, pk: int) -> HttpResponse:
    """Asks first (a page of its own, so it works without JavaScript); revokes on the confirmed POST."""
    token = api_tokens_of(request.user).filter(pk=pk).first()
    if token is None:
        raise Http404("No such token.")
    if request.method == "POST" and request.POST.get("confirm") == "yes":
        api_token_revoke(user=request.user, pk=pk)
        messages.success(request, f"Token “{token.name}” revoked.")
        return redirect("accounts:tokens")
    return render(request, "accounts/token_revoke.html", {"token": token})
