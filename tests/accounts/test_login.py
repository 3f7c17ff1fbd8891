"""Log-in, log-out, and the lock-out after repeated failed log-ins."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests import factories

pytestmark = pytest.mark.django_db

LOGIN = reverse("accounts:login")


def attempt(client, username: str, password: str, ip: str = "10.0.0.1"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip)


def fail(client, username: str, times: int, ip: str = "10.0.0.1"):
    for _ in range(times):
        response = attempt(client, username, "wrong-password", ip)
    return response


def is_logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_a_user_logs_in_and_returns_to_where_they_were(client):
    factories.user("ada")
    response = client.post(LOGIN, {"username": "ada", "password": factories.PASSWORD, "next": "/images/3/"})
    assert response.status_code == 302 and response["Location"] == "/images/3/"
    assert is_logged_in(client)


def test_a_wrong_password_gets_a_message_and_a_400(client):
    factories.user("ada")
    response = attempt(client, "ada", "not-the-password")
    assert response.status_code == 400
    assert "Please enter a correct username and password" in response.content.decode()
    assert not is_logged_in(client)


def test_log_out_is_a_post_and_ends_the_session(client):
    client.force_login(factories.user())
    assert client.get(reverse("accounts:logout")).status_code == 405
    assert is_logged_in(client)
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302 and response["Location"] == reverse("search:search")
    assert not is_logged_in(client)


def test_five_failed_log_ins_lock_out_that_username_from_that_address(client):
    factories.user("ada")
    assert fail(client, "ada", 4).status_code == 400

    response = fail(client, "ada", 1)
    assert response.status_code == 429
    assert "Too many failed log-ins" in response.content.decode()
    assert int(response["Retry-After"]) == 15 * 60

    # Even the right password is refused while locked out, with the same message.
    response = attempt(client, "ada", factories.PASSWORD)
    assert response.status_code == 429 and "Try again in 15 minutes" in response.content.decode()
    assert not is_logged_in(client)


def test_the_lock_out_ends_after_fifteen_minutes(client, monkeypatch):
    factories.user("ada")
    fail(client, "ada", 5)
    later = timezone.now() + timedelta(minutes=15, seconds=1)
    monkeypatch.setattr(timezone, "now", lambda: later)

    response = attempt(client, "ada", factories.PASSWORD)
    assert response.status_code == 302 and is_logged_in(client)


def test_failures_spread_beyond_the_window_do_not_lock(client, monkeypatch):
    factories.user("ada")
    fail(client, "ada", 4)
    later = timezone.now() + timedelta(minutes=16)
    monkeypatch.setattr(timezone, "now", lambda: later)
    assert fail(client, "ada", 4).status_code == 400
    assert attempt(client, "ada", factories.PASSWORD).status_code == 302


def test_a_successful_log_in_resets_the_count(client):
    factories.user("ada")
    fail(client, "ada", 4)
    attempt(client, "ada", factories.PASSWORD)
    client.post(reverse("accounts:logout"))
    assert fail(client, "ada", 4).status_code == 400
    assert attempt(client, "ada", factories.PASSWORD).status_code == 302


def test_the_lock_out_is_per_address_so_a_stranger_cannot_lock_the_owner_out(client):
    factories.user("ada")
    fail(client, "ada", 5, ip="203.0.113.9")
    assert attempt(client, "ada", factories.PASSWORD, ip="10.0.0.1").status_code == 302


def test_usernames_that_differ_only_in_case_share_a_count(client):
    factories.user("ada")
    fail(client, "ADA", 3)
    fail(client, "Ada", 2)
    assert attempt(client, "ada", factories.PASSWORD).status_code == 429


def test_unknown_usernames_are_locked_out_the_same_way(client):
    assert fail(client, "nobody", 5).status_code == 429


def test_the_admin_log_in_counts_towards_the_same_lock_out(client):
    factories.user("root", is_staff=True, is_superuser=True)
    for _ in range(5):
        client.post(reverse("admin:login"), {"username": "root", "password": "guess"}, REMOTE_ADDR="10.0.0.1")
    assert attempt(client, "root", factories.PASSWORD).status_code == 429


def test_a_logged_in_user_is_sent_on_from_the_log_in_page(client):
    client.force_login(factories.user())
    assert client.get(LOGIN).status_code == 302
