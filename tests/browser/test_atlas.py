"""The map of the corpus in headless Chromium: the canvas draws the points, a query is placed with
its arrow, and clicking a point opens that image's page."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from tests import factories
from tests.browser.conftest import DESKTOP, PHONE, serious_axe_violations, sideways_overflow

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

# The first drawn (non-transparent) pixel of the canvas, in CSS pixels relative to the canvas box.
FIRST_POINT = """(canvas) => {
  const { width, height } = canvas;
  const pixels = canvas.getContext('2d').getImageData(0, 0, width, height).data;
  let drawn = 0, first = null;
  for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) {
    drawn += 1;
    if (!first) first = [((i - 3) / 4) % width, Math.floor((i - 3) / 4 / width)];
  }
  const scale = canvas.getBoundingClientRect().width / width;
  return { drawn, x: (first[0] + 1) * scale, y: (first[1] + 1) * scale };
}"""


def test_the_map_draws_the_corpus_places_a_query_and_a_click_opens_an_image(live_server, page, settings):
    settings.MIRAGE_SIMILARITY_FLOOR_CAPTION = -1.0  # every image is a result: this tests the drawing
    factories.images(
        "Chest radiograph showing a large right pneumothorax.",
        "Axial CT of the brain with an acute subdural haematoma.",
        "Ultrasound of the gallbladder with multiple gallstones.",
        "Chest X-ray with bilateral pneumonia.",
    )
    call_command("embed", "--space", "caption", stdout=io.StringIO(), stderr=io.StringIO())

    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/map/?q=chest+x-ray&add=pneumonia&sub=pneumothorax")
    canvas = page.locator("#atlas-canvas")
    expect(canvas).to_have_attribute("data-drawn", "4")
    expect(page.locator("#atlas-status")).to_contain_text("the arrow goes from q to q + add − sub")
    assert "Radiograph (X-ray) (2)" in page.locator("#atlas-legend").inner_text()
    assert page.locator("#atlas-results li a").count() == 4

    page.goto(f"{live_server.url}/map/")  # no query overlay: every drawn pixel is a point
    expect(canvas).to_have_attribute("data-drawn", "4")
    first = canvas.evaluate(FIRST_POINT)
    assert first["drawn"] > 20
    canvas.hover(position={"x": first["x"], "y": first["y"]})
    page.locator("#atlas-tip p").wait_for()
    canvas.click(position={"x": first["x"], "y": first["y"]})
    page.wait_for_url("**/images/*/")
    assert page.locator("dl.facts").count() == 1

    page.get_by_role("link", name="Show on the map").click()  # the image as the query
    expect(page.locator("#atlas-status")).to_contain_text("best results are ringed")
    assert page.locator("#atlas-results li a").count() == 3  # the other three images, not itself


def test_the_map_pans_by_dragging_zooms_by_its_buttons_and_a_drag_opens_no_image(live_server, page):
    factories.images(
        "Chest radiograph showing a large right pneumothorax.",
        "Axial CT of the brain with an acute subdural haematoma.",
        "Ultrasound of the gallbladder with multiple gallstones.",
    )
    call_command("embed", "--space", "caption", stdout=io.StringIO(), stderr=io.StringIO())
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/map/")
    canvas = page.locator("#atlas-canvas")
    expect(canvas).to_have_attribute("data-drawn", "3")
    first = canvas.evaluate(FIRST_POINT)

    box = canvas.bounding_box()
    page.mouse.move(box["x"] + first["x"], box["y"] + first["y"])  # a drag that starts on a point
    page.mouse.down()
    page.mouse.move(box["x"] + first["x"] + 120, box["y"] + first["y"] + 60, steps=8)
    page.mouse.up()
    page.wait_for_timeout(300)  # the sharp redraw once the view rests
    panned = canvas.evaluate(FIRST_POINT)
    assert page.url.endswith("/map/")
    assert (round(panned["x"] - first["x"]), round(panned["y"] - first["y"])) == (120, 60)

    page.get_by_role("button", name="Reset view").click()
    page.wait_for_timeout(300)
    assert canvas.evaluate(FIRST_POINT) == first
    # From the keyboard: the pan buttons move the view a quarter of the map's height (the topmost point
    # stays the topmost one when the view moves up) or width, and back.
    page.get_by_role("button", name="Pan up").focus()
    page.keyboard.press("Enter")
    page.wait_for_timeout(300)
    moved = canvas.evaluate(FIRST_POINT)
    assert abs(moved["y"] - first["y"] - box["height"] / 4) <= 1.5 and abs(moved["x"] - first["x"]) <= 1.5
    shown = canvas.evaluate("(canvas) => canvas.toDataURL()")
    for name in ("Pan left", "Pan right"):
        page.get_by_role("button", name=name).focus()
        page.keyboard.press("Enter")
        page.wait_for_timeout(300)
        if name == "Pan left":
            assert canvas.evaluate("(canvas) => canvas.toDataURL()") != shown
    assert canvas.evaluate("(canvas) => canvas.toDataURL()") == shown
    page.get_by_role("button", name="Reset view").click()
    page.wait_for_timeout(300)
    assert canvas.evaluate(FIRST_POINT) == first
    whole = canvas.evaluate("(canvas) => canvas.toDataURL()")
    page.get_by_role("button", name="Zoom in").click()
    page.wait_for_timeout(300)
    assert canvas.evaluate("(canvas) => canvas.toDataURL()") != whole
    page.get_by_role("button", name="Zoom out").click()
    page.wait_for_timeout(300)
    assert canvas.evaluate("(canvas) => canvas.toDataURL()") == whole


def test_a_picture_uploaded_on_the_clip_map_is_placed_with_its_nearest_images(
    live_server, page, browser, settings, tiny_clip_dir
):
    settings.MIRAGE_CLIP_MODEL = str(tiny_clip_dir)
    images = factories.images("Chest radiograph.", "Axial CT of the head.", "Ultrasound of the liver.")
    call_command("embed", stdout=io.StringIO(), stderr=io.StringIO())
    with images[1].file.open("rb") as stored:
        picture = stored.read()

    page.goto(f"{live_server.url}/map/?space=clip")
    expect(page.locator("#atlas-canvas")).to_have_attribute("data-drawn", "3")
    page.get_by_label("A picture to place").set_input_files(
        files=[{"name": "mine.jpg", "mimeType": "image/jpeg", "buffer": picture}]
    )
    page.get_by_role("button", name="Place picture").click()

    expect(page.locator("#atlas-status")).to_contain_text("image mine.jpg: its 3 best results are ringed")
    assert page.locator("#atlas-results li a").first.get_attribute("href") == f"/images/{images[1].pk}/"

    for viewport in (PHONE, DESKTOP):  # the upload form fits a phone and passes axe
        context = browser.new_context(viewport=viewport, bypass_csp=True)  # axe is injected inline
        clip_page = context.new_page()
        clip_page.goto(f"{live_server.url}/map/?space=clip")
        expect(clip_page.locator("#atlas-canvas")).to_have_attribute("data-drawn", "3")
        assert sideways_overflow(clip_page) == 0
        assert serious_axe_violations(clip_page) == []
        context.close()
