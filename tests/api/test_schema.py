"""The OpenAPI schema: valid, and every endpoint survives generated requests (schemathesis).

Bounded in time: a few examples per operation, no deadline per example.
"""

from __future__ import annotations

import io

import pytest
import schemathesis
from django.core.management import call_command
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from apps.core.tokens import api_token_create
from tests import factories

pytestmark = pytest.mark.django_db


def test_the_schema_validates_without_warnings():
    out = io.StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out, stderr=io.StringIO())
    assert "openapi: 3" in out.getvalue()


def test_swagger_ui_is_served_from_vendored_assets_without_inline_script(client):
    page = client.get("/api/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/" in page
    assert "cdn.jsdelivr.net" not in page and "unpkg.com" not in page
    assert "<script>" not in page  # the split view serves its set-up script as a file


@pytest.fixture
def keep_db_connection(db):
    """As Django's test client does: a request must not close the test's database connection."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def token(db) -> str:
    factories.images("Chest radiograph with a pneumothorax.", "Axial CT of the head.")
    call_command("embed", "--space", "caption", stdout=io.StringIO(), stderr=io.StringIO())
    # A superuser is instructor and moderator at once, so manage-only endpoints are exercised too.
    _, raw = api_token_create(user=factories.user(is_superuser=True, is_staff=True), name="schemathesis")
    return raw


def _load_schema():
    from mirage_site.wsgi import application

    # Generating the schema reads no rows, so it can be loaded while tests are collected.
    return schemathesis.openapi.from_wsgi("/api/schema/", application)


schema = _load_schema()


@schema.parametrize()
@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_no_endpoint_answers_with_a_5xx_or_breaks_its_schema(
    case, keep_db_connection, token, settings_throttle_off
):
    case.call_and_validate(
        headers={"Authorization": f"Bearer {token}"},
        checks=[not_a_server_error, response_schema_conformance, content_type_conformance],
    )


@pytest.fixture
def settings_throttle_off(settings):
    """Generated requests come fast; throttling is tested on its own (test_search_api)."""
    settings.MIRAGE_RATE_LIMITS = {
        scope: {"user": "100000/min", "anon": "100000/min"} for scope in settings.MIRAGE_RATE_LIMITS
    }
    yield
