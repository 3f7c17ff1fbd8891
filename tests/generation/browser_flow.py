"""The browser half of test_browser.py, run in a process of its own.

Playwright's sync API can run only once per process, and the browser tests' session-wide Chromium may
already be running in the test process; a separate process also keeps this test's browser apart.

    python -m tests.generation.browser_flow BASE_URL USERNAME PASSWORD CHROMIUM

It logs in on the way to the generation form, submits a job, prints QUEUED once the job page says so,
waits for a line on stdin (the test then starts a worker), watches the page until the job is done, and
prints what it saw as JSON.
"""

from __future__ import annotations

import json
import sys

from playwright.sync_api import sync_playwright

from tests.browser.conftest import CHROMIUM_ARGS

STATE = "document.querySelector('#job-status .state').innerText"
LOADED_WIDTH = (
    "img => img.complete ? img.naturalWidth : new Promise(ok => (img.onload = () => ok(img.naturalWidth)))"
)


def main(base_url: str, username: str, password: str, chromium: str) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.set_default_timeout(30_000)
        seen: dict = {}

        # From a search's "Generate" link, through the log-in page, back to the pre-filled form.
        page.goto(base_url + "/generate/?prompt=chest+x-ray+with+pneumothorax")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url("**/generate/?prompt=*")
        seen["prefilled"] = page.locator("#id_prompt").input_value()
        page.get_by_label("quality").check()
        page.get_by_label("Steps").fill("50")
        page.get_by_label("Images").fill("4")
        page.get_by_role("button", name="Generate").click()
        page.wait_for_url("**/generate/jobs/*/")
        seen["first_state"] = page.evaluate(STATE)
        page.evaluate("window.stillTheSamePage = true")
        print("QUEUED", flush=True)
        sys.stdin.readline()

        page.wait_for_function(f"() => {STATE}.startsWith('Running')")
        seen["running_state"] = page.evaluate(STATE)
        page.wait_for_function(f"() => {STATE}.startsWith('Done')", timeout=60_000)
        seen["same_page"] = page.evaluate("window.stillTheSamePage === true")
        images = page.locator("#job-status figure img")
        seen["images"] = images.count()
        seen["width"] = images.first.evaluate(LOADED_WIDTH)
        seen["caption"] = page.locator("#job-status figcaption").first.inner_text()
        seen["cancel_buttons"] = page.get_by_role("button", name="Cancel this job").count()
        browser.close()
    print(json.dumps(seen), flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:5])
