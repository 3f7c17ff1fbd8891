"""The profile page, the navigation links, and roles in the admin."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.accounts.models import User
from apps.corpus.models import Image
from tests import factories

pytestmark = pytest.mark.django_db


def test_the_profile_shows_username_email_role_and_the_users_own_images(client):
    user = factories.user("ada", role="instructor")
    mine, theirs = factories.images("My synthetic chest X-ray.", "Somebody else's image.")
    Image.objects.filter(pk=mine.pk).update(
        owner=user, is_synthetic=True, moderation_state="rejected", moderation_reason="Looks real."
    )
    client.force_login(user)

    page = client.get(reverse("accounts:profile")).content.decode()

    for text in [
        "ada",
        "ada@example.org",
        "Instructor",
        "My synthetic chest X-ray.",
        "rejected",
        "Looks real.",
    ]:
        assert text in page
    assert "Somebody else" not in page
    assert reverse("corpus:image_detail", args=[mine.pk]) in page
    assert reverse("accounts:password_change") in page


def test_the_profile_needs_a_log_in(client):
    response = client.get(reverse("accounts:profile"))
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('accounts:login')}?next={reverse('accounts:profile')}"


def test_anonymous_visitors_see_log_in_and_sign_up_links(client):
    page = client.get(reverse("accounts:password_reset")).content.decode()
    assert f'href="{reverse("accounts:signup")}"' in page
    assert f'href="{reverse("accounts:login")}"' in page
    assert reverse("accounts:logout") not in page


def test_users_see_their_name_linking_to_the_profile_and_a_log_out_button(client):
    client.force_login(factories.user("ada"))
    page = client.get(reverse("accounts:profile")).content.decode()
    assert f'<a href="{reverse("accounts:profile")}" title="Your profile">ada</a>' in page
    assert f'<form class="inline" method="post" action="{reverse("accounts:logout")}">' in page
    assert ">Log in<" not in page


@pytest.fixture
def admin_client_(client):
    client.force_login(factories.user("root", is_staff=True, is_superuser=True))
    return client


def test_admins_filter_users_by_role(admin_client_):
    factories.user("ada", role="instructor")
    factories.user("bob")
    page = admin_client_.get(reverse("admin:accounts_user_changelist"), {"role__exact": "instructor"})
    assert page.status_code == 200
    assert ">ada<" in page.content.decode() and ">bob<" not in page.content.decode()


def test_admins_create_a_user_with_a_role(admin_client_):
    response = admin_client_.post(
        reverse("admin:accounts_user_add"),
        {
            "username": "carol",
            "email": "carol@example.org",
            "role": "moderator",
            "usable_password": "true",
            "password1": "moderating-all-day-9",
            "password2": "moderating-all-day-9",
        },
    )
    assert response.status_code == 302
    assert User.objects.get(username="carol").is_moderator


def test_admins_grant_a_role_from_the_user_page(admin_client_):
    user = factories.user("ada")
    page = admin_client_.get(reverse("admin:accounts_user_change", args=[user.pk])).content.decode()
    assert 'name="role"' in page
