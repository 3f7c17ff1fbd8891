"""Roles read right on the profile and in /api/me; the tokens page copies, says "active" and asks
before revoking; moderation buttons say what they do."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.core.models import ApiToken
from apps.core.tokens import api_token_create
from apps.moderation.services import image_report
from tests import factories
from tests.factories import api_as

pytestmark = pytest.mark.django_db


def superuser():
    user = factories.user()
    user.is_superuser = user.is_staff = True
    user.save()
    return user


@pytest.mark.parametrize(
    ("make", "shown", "roles"),
    [
        (lambda: factories.user(), "Student", ["student"]),
        (lambda: factories.user(role="instructor"), "Instructor", ["instructor"]),
        (lambda: factories.user(role="moderator"), "Moderator", ["moderator"]),
        (superuser, "Administrator, instructor, moderator", ["administrator", "instructor", "moderator"]),
    ],
)
def test_the_profile_and_api_me_name_each_role(client, make, shown, roles):
    user = make()
    client.force_login(user)

    page = client.get(reverse("accounts:profile")).content.decode()
    me = api_as(user).get("/api/me/").json()

    assert f"<dd>{shown}</dd>" in page
    assert me["roles"] == roles
    assert (me["is_instructor"], me["is_moderator"]) == ("instructor" in roles, "moderator" in roles)


def test_a_superusers_profile_does_not_call_them_a_student(client):
    client.force_login(superuser())
    assert "Student" not in client.get(reverse("accounts:profile")).content.decode()


def test_the_tokens_page_offers_a_copy_button_from_a_static_script_and_says_active(client):
    user = factories.user()
    client.force_login(user)

    page = client.post(reverse("accounts:tokens"), {"name": "script", "lifetime": "30"}).content.decode()

    assert 'data-copy="new-token" hidden' in page and "/static/js/copy.js" in page
    assert "<script>" not in page  # no inline script (Content-Security-Policy)
    assert ">active</span>" in page


def test_revoking_a_token_asks_first_and_only_the_confirmed_post_revokes(client):
    user = factories.user()
    token, _raw = api_token_create(user=user, name="laptop")
    client.force_login(user)
    url = reverse("accounts:token_revoke", args=[token.pk])

    asked = client.get(url).content.decode()
    unconfirmed = client.post(url)
    token.refresh_from_db()
    assert "Revoke “laptop”?" in asked and 'name="confirm" value="yes"' in asked
    assert unconfirmed.status_code == 200 and token.revoked_at is None

    done = client.post(url, {"confirm": "yes"})
    token.refresh_from_db()
    assert done.status_code == 302 and token.revoked_at is not None


def test_nobody_revokes_someone_elses_token(client):
    token, _raw = api_token_create(user=factories.user(), name="theirs")
    client.force_login(factories.user())
    url = reverse("accounts:token_revoke", args=[token.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"confirm": "yes"}).status_code == 404
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None


def test_the_review_page_shows_the_image_once_and_dismissing_is_not_styled_as_destructive(client):
    (image,) = factories.images("Chest radiograph.")
    image_report(user=factories.user(), image=image, reason="Not a chest.")
    client.force_login(factories.user(role="moderator"))

    page = client.get(reverse("moderation:review", args=[image.pk])).content.decode()

    assert page.count("<img ") == 1
    assert 'value="dismiss">Dismiss report' in page
