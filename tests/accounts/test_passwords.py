"""Changing a password, and resetting a forgotten one by email."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from tests import factories

pytestmark = pytest.mark.django_db

NEW = "a-brand-new-phrase-77"


def test_a_user_changes_their_password(client):
    user = factories.user("ada")
    client.force_login(user)
    response = client.post(
        reverse("accounts:password_change"),
        {"old_password": factories.PASSWORD, "new_password1": NEW, "new_password2": NEW},
    )
    assert response["Location"] == reverse("accounts:password_change_done")
    user.refresh_from_db()
    assert user.check_password(NEW)
    assert client.get(reverse("accounts:profile")).status_code == 200  # still logged in


def test_changing_a_password_needs_the_old_one_and_a_valid_new_one(client):
    user = factories.user("ada")
    client.force_login(user)
    page = client.post(
        reverse("accounts:password_change"),
        {"old_password": "wrong", "new_password1": "123", "new_password2": "123"},
    ).content.decode()
    assert "Your old password was entered incorrectly" in page and "too short" in page
    user.refresh_from_db()
    assert user.check_password(factories.PASSWORD)


def test_the_password_change_page_needs_a_log_in(client):
    response = client.get(reverse("accounts:password_change"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))


def reset_link(mail) -> str:
    (message,) = mail
    return re.search(r"https?://[^/\s]+(/\S+)", message.body).group(1)


def test_a_forgotten_password_is_reset_through_an_emailed_link(client, mailoutbox):
    user = factories.user("ada")
    response = client.post(reverse("accounts:password_reset"), {"email": "ADA@example.org"})
    assert response["Location"] == reverse("accounts:password_reset_done")
    assert mailoutbox[0].to == ["ada@example.org"]
    assert mailoutbox[0].subject == "Reset your MIRAGE password"

    form_page = client.get(reset_link(mailoutbox), follow=True)
    assert "Choose a new password" in form_page.content.decode()
    response = client.post(form_page.redirect_chain[-1][0], {"new_password1": NEW, "new_password2": NEW})

    assert response["Location"] == reverse("accounts:password_reset_complete")
    user.refresh_from_db()
    assert user.check_password(NEW)
    assert "no longer works" in client.get(reset_link(mailoutbox), follow=True).content.decode()


def test_resetting_for_an_unknown_address_says_the_same_and_sends_nothing(client, mailoutbox):
    response = client.post(reverse("accounts:password_reset"), {"email": "nobody@example.org"})
    assert response["Location"] == reverse("accounts:password_reset_done")
    assert mailoutbox == []


def test_resetting_the_password_lifts_a_log_in_lock_out(client, mailoutbox):
    factories.user("ada")
    for _ in range(5):
        client.post(reverse("accounts:login"), {"username": "ada", "password": "guess"})
    client.post(reverse("accounts:password_reset"), {"email": "ada@example.org"})
    form_page = client.get(reset_link(mailoutbox), follow=True)
    client.post(form_page.redirect_chain[-1][0], {"new_password1": NEW, "new_password2": NEW})

    response = client.post(reverse("accounts:login"), {"username": "ada", "password": NEW})
    assert response.status_code == 302
