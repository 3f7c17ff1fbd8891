"""The API's documentation page renders under the Content-Security-Policy (the page fixture fails a
test on any CSP violation), and stays accessible once a visitor opens an operation and the Authorize
dialog (the closed page is checked with every other page in test_pages.py)."""

from __future__ import annotations

import pytest

from tests.browser.conftest import DESKTOP, serious_axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_api_documentation_renders_from_our_own_origin(page, live_server):
    page.goto(live_server.url + "/api/docs/")
    page.get_by_text("MIRAGE API").first.wait_for(timeout=30_000)
    page.get_by_text("/api/search/").first.wait_for()


def test_an_opened_operation_and_the_authorize_dialog_have_no_serious_accessibility_problem(
    browser, live_server
):
    context = browser.new_context(viewport=DESKTOP, bypass_csp=True)  # axe is injected inline
    page = context.new_page()
    page.goto(live_server.url + "/api/docs/")
    page.get_by_text("/api/compare/").first.click()  # enum drop-downs, a code example, "Try it out"
    page.get_by_role("button", name="Try it out").first.click()
    page.get_by_role("button", name="Authorize").first.click()
    page.get_by_role("button", name="Close").first.wait_for()

    assert serious_axe_violations(page) == []
    context.close()
