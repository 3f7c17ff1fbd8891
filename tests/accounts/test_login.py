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


def test_guesses_spread_over_many_addresses_lock_the_account_and_the_lock_backs_off(client, settings):
    from apps.accounts.models import LoginThrottle

    settings.MIRAGE_LOGIN_ACCOUNT_MAX_FAILURES = 6
    factories.user("ada")
    for n in range(3):  # two guesses from each of three addresses: no pair reaches 5
        fail(client, "ada", 2, ip=f"10.1.0.{n}")
    assert attempt(client, "ada", factories.PASSWORD, ip="10.9.9.9").status_code == 429
    first = LoginThrottle.objects.get(username="ada", ip=None)
    assert first.lockouts == 1
    first_length = first.locked_until - timezone.now()

    # After the lock-out ends, the next round of spread guesses locks it for twice as long.
    LoginThrottle.objects.filter(pk=first.pk).update(locked_until=timezone.now() - timedelta(seconds=1))
    for n in range(3):
        fail(client, "ada", 2, ip=f"10.2.0.{n}")
    second = LoginThrottle.objects.get(username="ada", ip=None)
    assert second.lockouts == 2
    assert (second.locked_until - timezone.now()) > 1.9 * first_length

    # The owner resetting the password lifts it (every row for the username goes).
    from apps.accounts.services import login_throttle_clear

    login_throttle_clear(username="ada")
    assert attempt(client, "ada", factories.PASSWORD, ip="10.9.9.9").status_code == 302


@pytest.mark.django_db(transaction=True)
def test_failures_at_the_same_moment_are_all_counted():
    import threading

    from django.db import connection

    from apps.accounts.models import LoginThrottle
    from apps.accounts.services import login_failure_record

    def guess():
        try:
            login_failure_record(username="ada", ip="10.0.0.1")
        finally:
            connection.close()

    threads = [threading.Thread(target=guess) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert LoginThrottle.objects.get(username="ada", ip="10.0.0.1").failures == 8
    assert LoginThrottle.objects.get(username="ada", ip=None).failures == 8


def test_wrong_old_passwords_on_the_password_change_form_count_towards_the_lock_out(client):
    user = factories.user("ada")
    client.force_login(user)
    url = reverse("accounts:password_change")
    new = {"new_password1": "n3w-Secret-7731", "new_password2": "n3w-Secret-7731"}
    codes = [
        client.post(url, {"old_password": "guess", **new}, REMOTE_ADDR="10.0.0.1").status_code
        for _ in range(5)
    ]
    locked = client.post(url, {"old_password": factories.PASSWORD, **new}, REMOTE_ADDR="10.0.0.1")
    assert codes == [400] * 5 and locked.status_code == 429
    user.refresh_from_db()
    assert user.check_password(factories.PASSWORD)  # even the right old password was refused
    from django.test import Client

    assert attempt(Client(), "ada", factories.PASSWORD).status_code == 429  # and the log-in page too
