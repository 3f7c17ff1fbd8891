"""One screen per question in headless Chromium: the description and the synthetic image swap in when
their jobs finish, without the page being reloaded."""

from __future__ import annotations

import io
import threading

import pytest
from django.core.management import call_command
from django.db import connection

from apps.generation.worker import process_one
from tests import factories
from tests.browser.conftest import (
    PHONE,
    duplicate_ids,
    log_in_context,
    serious_axe_violations,
    sideways_overflow,
)
from tests.generation.conftest import (  # noqa: F401 (fixtures)
    _one_torch_thread,
    tiny_lm_dir,
    tiny_lora_dir,
    tiny_models,
    tiny_sd_dir,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

CAPTIONS = [
    "Chest radiograph showing right lower lobe pneumonia with consolidation.",
    "Normal chest radiograph with clear lungs.",
    "Chest radiograph showing a pacemaker generator and leads.",
]


def run_jobs(done: list) -> None:
    try:
        while (job := process_one()) is not None:
            done.append(job)
    finally:
        connection.close()  # this thread's own connection


def test_the_description_and_the_image_swap_in_without_a_reload(live_server, browser, page, tiny_models):  # noqa: F811
    factories.images(*CAPTIONS)
    call_command("embed", "--space", "caption", stdout=io.StringIO(), stderr=io.StringIO())
    student = factories.user()
    log_in_context(page.context, student)

    page.goto(live_server.url + "/?q=pneumonia&k=2")
    page.get_by_role("button", name="Describe and illustrate on one screen").click()
    page.wait_for_url("**/compare/ask/?*describe=*")
    column = page.locator("section.column")
    assert "Queued" in column.locator("#ask-describe-1 .state").inner_text()
    assert "Queued" in column.locator("#ask-image-1 .state").inner_text()
    assert "pneumonia" in column.locator(".caption").first.inner_text()  # the results are there at once
    page.evaluate("window.stillTheSamePage = true")

    done: list = []
    worker = threading.Thread(target=run_jobs, args=(done,))
    worker.start()
    worker.join(timeout=120)

    page.locator("#ask-describe-1 .answer").wait_for(timeout=30_000)
    page.locator("#ask-image-1 figure img").wait_for(timeout=30_000)
    assert [job.status for job in done] == ["succeeded", "succeeded"]
    assert page.evaluate("window.stillTheSamePage === true")  # swapped in place, never reloaded
    assert "Air in the pleural space" in page.locator("#ask-describe-1 .answer").inner_text()
    assert "SYNTHETIC" in page.locator("#ask-image-1 figcaption").inner_text()
    assert "Done" in page.locator("#ask-describe-1 .state").inner_text()
    assert duplicate_ids(page) == []

    # The finished page on a phone, with axe-core injected inline (so without the CSP).
    context = browser.new_context(viewport=PHONE, bypass_csp=True)
    log_in_context(context, student)
    phone = context.new_page()
    phone.goto(page.url)
    assert sideways_overflow(phone) == 0
    assert serious_axe_violations(phone) == []
    context.close()


def test_without_javascript_the_page_reloads_itself_until_every_part_is_there(
    live_server,
    browser,
    tiny_models,  # noqa: F811
):
    factories.images(*CAPTIONS)
    call_command("embed", "--space", "caption", stdout=io.StringIO(), stderr=io.StringIO())
    context = browser.new_context(java_script_enabled=False)
    log_in_context(context, factories.user())
    page = context.new_page()

    page.goto(live_server.url + "/compare/?mode=pair&a=pneumonia&b=clear+lungs&k=2")
    page.get_by_role("button", name="Describe and illustrate both columns").click()
    page.wait_for_url("**/compare/ask/?*describe=*")
    assert page.locator("#ask-describe-2 .state").inner_text().startswith("Queued")
    done: list = []
    run_jobs(done)

    page.locator("#ask-image-2 figure img").wait_for(timeout=30_000)  # after the page reloaded itself
    assert "clear lungs" in page.locator("#ask-describe-2 article.description h2").inner_text()
    assert "Air in the pleural space" in page.locator("#ask-describe-1 .answer").inner_text()
    assert page.locator('meta[http-equiv="refresh"]').count() == 0  # and it stops reloading
    context.close()
