"""The one rate limiter: shared by pages and API, keyed on the user or the client address."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.test import RequestFactory

from apps.core.ratelimit import RateLimited, client_address, rate_limit_hit
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def tight(settings):
    settings.MIRAGE_RATE_LIMITS = {
        **settings.MIRAGE_RATE_LIMITS,
        "search": {"user": "3/min", "anon": "2/min"},
    }


def _anonymous(address="203.0.113.5", forwarded=None):
    extra = {"REMOTE_ADDR": address}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    request = RequestFactory().get("/", **extra)
    from django.contrib.auth.models import AnonymousUser

    request.user = AnonymousUser()
    return request


def _allowed(request, times):
    answers = []
    for _ in range(times):
        try:
            rate_limit_hit(scope="search", request=request)
            answers.append(True)
        except RateLimited:
            answers.append(False)
    return answers


def test_an_anonymous_client_gets_its_allowance_and_then_a_429_with_retry_after(tight):
    assert _allowed(_anonymous(), 2) == [True, True]
    with pytest.raises(RateLimited) as refused:
        rate_limit_hit(scope="search", request=_anonymous())
    assert refused.value.status == 429 and 1 <= refused.value.retry_after <= 60


def test_a_logged_in_user_is_counted_on_the_account_not_the_address(tight):
    user = factories.user()
    first, second = _anonymous("198.51.100.1"), _anonymous("198.51.100.2")
    first.user = second.user = user
    assert _allowed(first, 2) + _allowed(second, 2) == [True, True, True, False]


def test_a_rotated_forwarded_header_buys_no_fresh_allowance_without_trusted_proxies(tight):
    answers = [_allowed(_anonymous(forwarded=f"10.0.0.{n}"), 1)[0] for n in range(4)]
    assert answers == [True, True, False, False]


def test_with_one_trusted_proxy_the_address_it_saw_is_the_client(settings):
    settings.MIRAGE_TRUSTED_PROXIES = 1
    spoofed = _anonymous("192.0.2.10", forwarded="1.2.3.4, 203.0.113.77")
    assert client_address(spoofed) == "203.0.113.77"
    settings.MIRAGE_TRUSTED_PROXIES = 0
    assert client_address(spoofed) == "192.0.2.10"


def _synchronous_commit() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_the_count_commits_on_its_own_and_its_setting_does_not_outlast_it(tight):
    """Outside any transaction the count goes with `SET LOCAL synchronous_commit = off` in one message:
    the counts still add up, and the connection's setting is PostgreSQL's default afterwards."""
    assert _allowed(_anonymous(), 3) == [True, True, False]
    assert _synchronous_commit() == "on"


def test_inside_a_callers_transaction_the_count_leaves_its_commit_synchronous(tight):
    """Here (a test's transaction) a SET LOCAL would last until the caller's own commit: none is sent."""
    assert _allowed(_anonymous(), 3) == [True, True, False]
    assert _synchronous_commit() == "on"


def test_the_window_ends_and_the_allowance_comes_back(tight):
    request = _anonymous()
    assert _allowed(request, 3) == [True, True, False]
    with connection.cursor() as cursor:
        cursor.execute("UPDATE core_ratecounter SET window_start = now() - interval '61 seconds'")
    assert _allowed(request, 1) == [True]


@pytest.mark.django_db(transaction=True)
def test_requests_at_the_same_moment_never_exceed_the_allowance(settings):
    settings.MIRAGE_RATE_LIMITS = {
        **settings.MIRAGE_RATE_LIMITS,
        "search": {"user": "5/min", "anon": "5/min"},
    }
    results: list[bool] = []
    lock = threading.Lock()

    def client():
        try:
            answers = _allowed(_anonymous(), 3)
        finally:
            connection.close()
        with lock:
            results.extend(answers)

    threads = [threading.Thread(target=client) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 18 and results.count(True) == 5


def test_the_api_answers_429_in_the_error_envelope_with_retry_after(client, tight):
    codes = [client.get("/api/search/", {"q": "chest"}).status_code for _ in range(3)]
    refused = client.get("/api/search/", {"q": "chest"})
    assert codes[:2] == [200, 200] and refused.status_code == 429
    assert refused.json()["error"]["code"] == "throttled" and int(refused["Retry-After"]) >= 1


def test_the_search_page_and_the_api_draw_on_one_allowance(client, tight):
    assert client.get("/", {"q": "chest"}).status_code == 200
    assert client.get("/api/search/", {"q": "chest"}).status_code == 200
    page = client.get("/", {"q": "chest"})
    assert page.status_code == 429 and "Too many requests" in page.content.decode()
    assert client.get("/api/search/", {"q": "chest"}).status_code == 429
    assert client.get("/").status_code == 200  # the empty search page costs nothing


@pytest.mark.parametrize(
    ("scope", "method", "path", "data"),
    [
        ("search", "get", "/compare/", {"a": "chest", "b": "brain"}),
        ("signup", "post", "/accounts/signup/", {"username": "x"}),
        ("password_reset", "post", "/accounts/password/reset/", {"email": "a@example.org"}),
    ],
)
def test_each_limited_page_answers_429_past_its_allowance(client, settings, scope, method, path, data):
    settings.MIRAGE_RATE_LIMITS = {**settings.MIRAGE_RATE_LIMITS, scope: {"user": "1/hour", "anon": "1/hour"}}
    first = getattr(client, method)(path, data)
    second = getattr(client, method)(path, data)
    assert first.status_code != 429 and second.status_code == 429 and int(second["Retry-After"]) > 1


def test_quiz_joins_are_limited_on_the_page_and_the_api_together(client, settings):
    settings.MIRAGE_RATE_LIMITS = {
        **settings.MIRAGE_RATE_LIMITS,
        "quiz_join": {"user": "2/hour", "anon": "2/hour"},
    }
    client.force_login(factories.user())
    assert client.post("/quizzes/join/", {"code": "ABCDEFGH"}).status_code == 404  # no such quiz
    assert (
        client.post("/api/quizzes/join/", {"code": "ABCDEFGH"}, content_type="application/json").status_code
        != 429
    )
    assert client.post("/quizzes/join/", {"code": "ABCDEFGH"}).status_code == 429
