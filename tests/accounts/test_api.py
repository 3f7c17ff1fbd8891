"""The account endpoints, and the API's lack of any way to log in with a password."""

from __future__ import annotations

import base64

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from apps.accounts.models import LoginThrottle, User
from apps.core.tokens import api_token_create
from apps.corpus.models import Image
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role", ["student", "instructor", "moderator"])
def test_me_tells_a_token_holder_who_they_are(role):
    user = factories.user("ada", role=role)
    _, raw = api_token_create(user=user, name="script")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")

    body = api.get("/api/me/").json()

    assert (body["id"], body["username"], body["email"], body["role"]) == (
        user.pk,
        "ada",
        "ada@example.org",
        role,
    )
    assert (body["is_instructor"], body["is_moderator"]) == (role == "instructor", role == "moderator")
    assert body["date_joined"].startswith(str(user.date_joined.year))


def test_me_gives_null_for_a_missing_email():
    user = factories.user()
    User.objects.filter(pk=user.pk).update(email="")  # e.g. an account made with createsuperuser
    user.refresh_from_db()
    api = APIClient()
    api.force_authenticate(user)
    assert api.get("/api/me/").json()["email"] is None


def test_me_needs_authentication():
    response = APIClient().get("/api/me/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


@pytest.mark.parametrize("method", ["put", "patch", "post", "delete"])
def test_the_account_cannot_be_changed_through_the_api(method):
    user = factories.user("ada")
    api = APIClient()
    api.force_authenticate(user)

    response = getattr(api, method)("/api/me/", {"email": "mallory@example.org"}, format="json")

    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
    user.refresh_from_db()
    assert user.email == "ada@example.org"


def test_my_images_lists_only_my_generated_images_with_the_rejection_reason():
    user = factories.user()
    mine, theirs = factories.images("My synthetic chest X-ray.", "Somebody else's image.")
    Image.objects.filter(pk=mine.pk).update(
        owner=user, is_synthetic=True, moderation_state="rejected", moderation_reason="Looks real."
    )
    api = APIClient()
    api.force_authenticate(user)

    body = api.get("/api/me/images/").json()

    assert body["count"] == 1
    (item,) = body["results"]
    assert (item["image"]["id"], item["image"]["moderation_state"], item["moderation_reason"]) == (
        mine.pk,
        "rejected",
        "Looks real.",
    )
    assert APIClient().get("/api/me/images/").status_code == 401


def test_the_api_accepts_no_password_so_it_cannot_bypass_the_log_in_lock_out(settings):
    factories.user("ada")
    api = APIClient()
    right = base64.b64encode(f"ada:{factories.PASSWORD}".encode()).decode()
    api.credentials(HTTP_AUTHORIZATION=f"Basic {right}")

    assert api.get("/api/me/").status_code == 401
    for attempt in range(settings.MIRAGE_LOGIN_MAX_FAILURES + 1):
        wrong = base64.b64encode(f"ada:guess-{attempt}".encode()).decode()
        api.credentials(HTTP_AUTHORIZATION=f"Basic {wrong}")
        assert api.get("/api/me/").status_code == 401
    # Nothing checked a password: no failed log-ins were even counted.
    assert not LoginThrottle.objects.exists()


def test_no_api_endpoint_logs_in_or_signs_up():
    schema = APIClient().get("/api/schema/", HTTP_ACCEPT="application/json").json()
    words = ("login", "log-in", "logout", "signup", "password", "register", "auth")
    assert not [path for path in schema["paths"] if any(word in path for word in words)]
    assert APIClient().post("/api-auth/login/").status_code == 404  # DRF's log-in views are not mounted


def test_the_profile_links_to_the_api_token_page(client):
    client.force_login(factories.user())
    page = client.get(reverse("accounts:profile")).content.decode()
    assert "API tokens" in page
    assert f'href="{reverse("accounts:tokens")}"' in page
