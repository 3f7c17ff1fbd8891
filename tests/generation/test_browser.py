"""Generate an image and watch it being made, in headless Chromium: the page updates itself (htmx)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading

import pytest
from django.conf import settings
from django.db import connection

from apps.generation.worker import process_one
from tests import factories

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def run_worker_once(done: list) -> None:
    try:
        done.append(process_one())
    finally:
        connection.close()  # this thread's own connection


def test_a_student_generates_an_image_and_watches_it_progress_to_done(
    live_server, chromium_path, tiny_models
):
    factories.user("gina")
    browser = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.generation.browser_flow",
            live_server.url,
            "gina",
            factories.PASSWORD,
            chromium_path,
        ],
        cwd=settings.BASE_DIR,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    done: list = []
    try:
        assert browser.stdout.readline().strip() == "QUEUED"  # the job page shows the queued job …
        worker = threading.Thread(target=run_worker_once, args=(done,))
        worker.start()  # … and only now does a worker take it
        browser.stdin.write("\n")
        browser.stdin.flush()
        seen = json.loads(browser.stdout.readline())
        worker.join(timeout=60)
    finally:
        browser.stdin.close()
        browser.wait(timeout=60)

    assert browser.returncode == 0
    assert seen["prefilled"] == "chest x-ray with pneumothorax"
    assert seen["first_state"].startswith("Queued")
    assert seen["running_state"].startswith("Running")
    assert seen["same_page"]  # Queued → Running → Done in place, never reloaded
    assert done and done[0].status == "succeeded"
    assert (seen["images"], seen["width"]) == (4, 64)
    assert "SYNTHETIC" in seen["caption"] and seen["cancel_buttons"] == 0
