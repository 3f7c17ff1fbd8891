"""The upload-limit middleware answers 413 for any view, before the body is read.

The image search checks sizes itself too, so these requests go to views that do not: the log-in page,
the study-set form and an API endpoint. The limit is lowered to 1 MB so the bodies stay small.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from mirage_site.middleware import FORM_OVERHEAD
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def one_mb_limit(settings):
    settings.MIRAGE_MAX_UPLOAD_BYTES = 2**20
    return settings.MIRAGE_MAX_UPLOAD_BYTES + FORM_OVERHEAD


def test_an_oversized_log_in_post_gets_the_middlewares_413_page(client, one_mb_limit):
    body = "username=someone&password=" + "x" * one_mb_limit

    response = client.post(reverse("accounts:login"), body, content_type="application/x-www-form-urlencoded")

    assert response.status_code == 413
    assert "files up to 1 MB are accepted" in response.content.decode()


def test_a_declared_length_just_over_the_limit_is_enough_and_one_at_the_limit_passes(client, one_mb_limit):
    over = client.post(
        reverse("accounts:login"), b"", content_type="text/plain", CONTENT_LENGTH=one_mb_limit + 1
    )
    at = client.post(reverse("accounts:login"), b"", content_type="text/plain", CONTENT_LENGTH=one_mb_limit)

    assert over.status_code == 413
    assert at.status_code != 413


def test_an_oversized_study_set_form_gets_413(client, one_mb_limit):
    client.force_login(factories.user())

    response = client.post(reverse("studysets:create"), {"title": "t" * (one_mb_limit + 1)})

    assert response.status_code == 413


def test_an_oversized_api_request_gets_413_in_the_error_envelope(client, one_mb_limit):
    response = client.post(
        "/api/search/", b"{}", content_type="application/json", CONTENT_LENGTH=one_mb_limit + 1
    )

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"
