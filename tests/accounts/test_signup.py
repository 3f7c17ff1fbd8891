"""Sign-up: a new student, logged in at once; Django's password validators; one account per name and email."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.accounts.models import User
from tests import factories

pytestmark = pytest.mark.django_db

GOOD = {
    "username": "ada",
    "email": "ada@example.org",
    "password1": "radiology-is-fun-42",
    "password2": "radiology-is-fun-42",
}


def test_signing_up_makes_a_student_and_logs_them_in(client):
    response = client.post(reverse("accounts:signup"), GOOD)

    assert response.status_code == 302 and response["Location"] == reverse("accounts:profile")
    user = User.objects.get(username="ada")
    assert (user.email, user.role, user.is_staff) == ("ada@example.org", User.STUDENT, False)
    assert user.check_password("radiology-is-fun-42")
    profile = client.get(reverse("accounts:profile"))
    assert profile.status_code == 200 and "ada@example.org" in profile.content.decode()


def test_a_new_user_cannot_choose_a_role(client):
    client.post(reverse("accounts:signup"), GOOD | {"role": "moderator", "is_staff": "on"})
    user = User.objects.get(username="ada")
    assert (user.role, user.is_staff) == (User.STUDENT, False)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"password1": "password", "password2": "password"}, "too common"),
        ({"password1": "ada@example.org", "password2": "ada@example.org"}, "too similar"),
        ({"password1": "84629175301", "password2": "84629175301"}, "entirely numeric"),
        ({"password1": "x7-Ab", "password2": "x7-Ab"}, "too short"),
        ({"password2": "something-else-42"}, "didn’t match"),
        ({"email": "not-an-address"}, "valid email"),
        ({"email": ""}, "required"),
    ],
)
def test_bad_sign_ups_get_a_message_and_a_400_and_no_account(client, change, message):
    response = client.post(reverse("accounts:signup"), GOOD | change)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not User.objects.filter(username="ada").exists()


def test_a_username_or_email_already_taken_is_refused_whatever_its_case(client):
    factories.user("Ada")  # email Ada@example.org
    response = client.post(reverse("accounts:signup"), GOOD | {"email": "other@example.org"})
    assert "A user with that username already exists." in response.content.decode()
    response = client.post(
        reverse("accounts:signup"), GOOD | {"username": "lovelace", "email": "ADA@example.org"}
    )
    assert "An account with this email address already exists." in response.content.decode()
    assert User.objects.count() == 1


def test_sign_up_returns_to_the_page_the_visitor_came_from_but_never_off_site(client):
    response = client.post(reverse("accounts:signup"), GOOD | {"next": "/images/7/"})
    assert response["Location"] == "/images/7/"
    client.post(reverse("accounts:logout"))
    other = GOOD | {"username": "bob", "email": "bob@example.org", "next": "https://evil.example/"}
    response = client.post(reverse("accounts:signup"), other)
    assert response["Location"] == reverse("accounts:profile")


def test_a_logged_in_user_is_sent_from_sign_up_to_their_profile(client):
    client.force_login(factories.user())
    response = client.get(reverse("accounts:signup"))
    assert response.status_code == 302 and response["Location"] == reverse("accounts:profile")


def test_the_sign_up_page_labels_every_field(client):
    page = client.get(reverse("accounts:signup")).content.decode()
    for field in ["id_username", "id_email", "id_password1", "id_password2"]:
        assert f'<label for="{field}"' in page
