"""The API's documentation page renders under the Content-Security-Policy (the page fixture fails a
test on any CSP violation)."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_api_documentation_renders_from_our_own_origin(page, live_server):
    page.goto(live_server.url + "/api/docs/")
    page.get_by_text("MIRAGE API").first.wait_for(timeout=30_000)
    page.get_by_text("/api/search/").first.wait_for()
