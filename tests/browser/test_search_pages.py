"""Search → results → image page, in headless Chromium."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from tests import factories

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_a_student_searches_opens_a_result_and_sees_where_it_comes_from(live_server, page):
    factories.images(
        "Chest radiograph showing a large right pneumothorax.",
        pmc_id="PMC3970251",
        article_url="https://www.ncbi.nlm.nih.gov/pmc/articles/PMC3970251/",
    )
    factories.images("Axial CT of the brain with a subdural haematoma.", "Ultrasound of the gallbladder.")
    call_command("embed", "--space", "caption", stdout=io.StringIO(), stderr=io.StringIO())

    page.goto(live_server.url + "/")
    page.get_by_label("Describe the image you are looking for").fill("collapsed lung on chest x-ray")
    page.get_by_role("button", name="Search").click()

    first = page.locator("ol.results > li").first
    assert "pneumothorax" in first.locator(".caption").inner_text()
    assert first.locator("img").evaluate("img => img.complete && img.naturalWidth > 0")  # thumbnail loads
    assert "caption meaning" in first.locator(".found").inner_text()
    notice = page.get_by_role("status").first.inner_text()
    assert notice.startswith("Matching your words to the pictures themselves is not available on this server")

    first.locator(".caption a").click()
    page.wait_for_url("**/images/*/")
    assert page.locator("h1").inner_text().startswith("Radiograph (X-ray)")
    assert page.locator("figure img").evaluate("img => img.complete && img.naturalWidth > 0")
    facts = page.locator("dl.facts").inner_text()
    assert "CC BY" in facts and "PMC3970251" in facts
    assert page.get_by_role("link", name="PMC3970251").get_attribute("href").endswith("/PMC3970251/")


def test_an_empty_query_shows_a_message_on_the_page(live_server, page):
    page.goto(live_server.url + "/?q=+++")
    assert "Type what you are looking for" in page.get_by_role("alert").inner_text()


def test_describe_is_one_click_from_the_results_and_a_weak_match_asks_first(live_server, page):
    from apps.generation.models import Job
    from tests.browser.conftest import log_in_context

    log_in_context(page.context, factories.user())
    factories.images("Chest radiograph showing a right-sided pneumothorax.", "Axial CT of the abdomen.")
    call_command("embed", "--space", "caption", stdout=io.StringIO(), stderr=io.StringIO())

    page.goto(live_server.url + "/?q=pneumothorax+chest+radiograph")
    page.get_by_role("button", name="Describe it from the captions").click()
    page.wait_for_url("**/generate/jobs/*/")
    good = Job.objects.get()

    page.goto(live_server.url + "/?q=collapsed+lung")
    page.get_by_role("button", name="Describe it from the captions").click()
    page.wait_for_url("**/generate/describe/")
    warning = page.locator("#weak-match").inner_text()
    nothing_yet = Job.objects.count()
    page.get_by_role("button", name="Write it anyway").click()
    page.wait_for_url("**/generate/jobs/*/")

    assert good.params["items"][0]["weak"] is False
    assert "only weakly" in warning and nothing_yet == 1
    assert Job.objects.latest("pk").params["items"][0]["weak"] is True
