"""Accounts and moderation in headless Chromium: sign up; a moderator approves a synthetic image,
and then another user finds it in search."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from apps.corpus.models import Image
from tests import factories

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

CAPTION = "Synthetic radiograph of a displaced scaphoid fracture."


def log_in(page, base_url: str, username: str, next_path: str = "/") -> None:
    page.goto(f"{base_url}/accounts/login/?next={next_path}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base_url}{next_path}")


def search_captions(page, base_url: str, query: str) -> str:
    page.goto(f"{base_url}/?q={query}")
    return page.locator("main").inner_text()


def test_a_moderator_approves_a_synthetic_image_and_another_user_then_finds_it(live_server, browser, page):
    author = factories.user("author")
    factories.user("mod", role="moderator")
    factories.user("student")
    (image,) = factories.images(CAPTION, slug="generated")
    Image.objects.filter(pk=image.pk).update(is_synthetic=True, owner=author, moderation_state=Image.PENDING)
    factories.images("Chest radiograph with a right pneumothorax.")
    call_command("embed", "--space", "caption", stdout=io.StringIO(), stderr=io.StringIO())

    student_context = browser.new_context()
    student = student_context.new_page()
    student.set_default_timeout(15_000)
    log_in(student, live_server.url, "student")
    assert CAPTION not in search_captions(student, live_server.url, "scaphoid fracture")

    log_in(page, live_server.url, "mod", next_path="/moderation/")
    item = page.locator("li.queue-item", has_text=CAPTION)
    assert "SYNTHETIC" in item.inner_text() and "made by author" in item.inner_text()
    item.get_by_role("button", name="Approve").click()
    assert f"{image.external_id}: approved." in page.get_by_role("status").first.inner_text()
    assert page.locator("li.queue-item", has_text=CAPTION).count() == 0

    page.goto(f"{live_server.url}/moderation/log/")
    assert "mod" in page.locator("table.log").inner_text()

    results = search_captions(student, live_server.url, "scaphoid fracture")
    assert CAPTION in results
    student_context.close()


def test_a_visitor_signs_up_through_the_form_and_is_logged_in(live_server, page):
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="Sign up").click()
    page.get_by_label("Username").fill("ada")
    page.get_by_label("Email").fill("ada@example.org")
    page.get_by_label("Password:", exact=True).fill("radiology-is-fun-42")
    page.get_by_label("Password confirmation").fill("radiology-is-fun-42")
    page.get_by_role("button", name="Sign up").click()

    page.wait_for_url("**/accounts/profile/")
    assert "Welcome to MIRAGE, ada" in page.get_by_role("status").first.inner_text()
    assert page.locator("h1").inner_text() == "ada"
    assert "Student" in page.locator("dl.facts").inner_text()

    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(live_server.url + "/")
    assert page.get_by_role("link", name="Log in").is_visible()
