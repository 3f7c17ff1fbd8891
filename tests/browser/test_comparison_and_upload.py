"""Comparison page, arithmetic presets and an image upload, in headless Chromium."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from tests import factories

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

CAPTIONS = [
    "Chest radiograph showing right lower lobe pneumonia with consolidation.",
    "Normal chest radiograph with clear lungs.",
    "Chest radiograph showing a pacemaker generator and leads.",
    "Lateral radiograph of the chest showing soft tissue swelling.",
]


def embed() -> None:
    call_command("embed", stdout=io.StringIO(), stderr=io.StringIO())


def test_a_student_compares_two_conditions_and_the_url_keeps_the_comparison(live_server, page):
    factories.images(*CAPTIONS)
    call_command("embed", "--space", "caption", stdout=io.StringIO(), stderr=io.StringIO())

    page.goto(live_server.url + "/compare/")
    form = page.get_by_role("form", name="Compare two queries")
    form.get_by_label("Left").fill("pneumonia chest x-ray")
    form.get_by_label("Right").fill("normal chest x-ray")
    form.get_by_label("Results per column").fill("2")
    form.get_by_role("button", name="Compare").click()

    columns = page.locator("section.column")
    assert columns.count() == 2
    assert "pneumonia" in columns.nth(0).locator(".caption").first.inner_text()
    assert "clear lungs" in columns.nth(1).locator(".caption").first.inner_text()
    shared = page.url
    page.goto(shared)  # a bookmark or a shared link
    assert (
        page.locator("section.column").nth(1).locator(".caption").first.inner_text()
        == columns.nth(1).locator(".caption").first.inner_text()
    )


def test_an_arithmetic_preset_shows_original_and_modified_columns(live_server, page):
    factories.images(*CAPTIONS)
    call_command("embed", "--space", "caption", stdout=io.StringIO(), stderr=io.StringIO())

    page.goto(live_server.url + "/compare/")
    page.locator("a.preset").nth(2).click()

    headings = page.locator("section.column h2")
    assert headings.nth(0).inner_text() == "Original: Chest X-ray"
    assert (
        headings.nth(1).inner_text()
        == "Modified: Chest X-ray + Pacemaker generator and leads − No foreign bodies"
    )
    assert "pacemaker" in page.locator("section.column").nth(1).locator(".caption").first.inner_text()


def test_a_student_searches_with_an_uploaded_image(live_server, page, settings, tiny_clip_dir, tmp_path):
    settings.MIRAGE_CLIP_MODEL = str(tiny_clip_dir)
    factories.images(*CAPTIONS)
    embed()
    query = tmp_path / "query.png"
    factories.picture(99).save(query)

    page.goto(live_server.url + "/")
    page.get_by_text("Search with an image").click()
    page.get_by_label("Image (PNG, JPEG or DICOM").set_input_files(str(query))
    page.get_by_role("button", name="Search with this image").click()

    assert page.locator("ol.results > li").count() == len(CAPTIONS)
    assert "CLIP image match #1" in page.locator("ol.results > li").first.inner_text()
    assert "image query.png" in page.locator("p.summary").inner_text()
