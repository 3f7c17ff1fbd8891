"""Saving a result from a long results page keeps the student where they were: the save control is
swapped in place (htmx), and they can name a new set right there."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from apps.studysets.models import StudySet
from tests import factories
from tests.browser.test_learning_flow import log_in
from tests.studysets.helpers import studyset

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_saving_a_result_far_down_the_page_keeps_the_place_and_can_start_a_named_set(live_server, page):
    factories.images(*[f"Chest radiograph number {n} showing a pneumothorax." for n in range(12)])
    call_command("embed", "--space", "caption", stdout=io.StringIO(), stderr=io.StringIO())
    student = factories.user("sam")
    studyset(student, title="Thorax")
    log_in(page, live_server.url, "sam")
    page.set_viewport_size({"width": 1000, "height": 600})
    page.goto(live_server.url + "/?q=pneumothorax")

    card = page.locator("ol.results > li").nth(9)
    card.scroll_into_view_if_needed()
    before = page.evaluate("window.scrollY")
    assert before > 300
    card.get_by_label("or a new set named").fill("Exam week")
    card.get_by_role("button", name="Save to study set").click()
    card.get_by_role("status").filter(has_text="Saved to “Exam week”.").wait_for()

    assert abs(page.evaluate("window.scrollY") - before) < 50  # still where the student was
    assert page.url.endswith("/?q=pneumothorax")
    assert StudySet.objects.get(owner=student, title="Exam week").items.count() == 1
    # The swapped-in control offers the new set; saving again into it says so, still in place.
    card.get_by_label("Study set").select_option(label="Exam week")
    card.get_by_role("button", name="Save to study set").click()
    card.get_by_role("status").filter(has_text="Already in “Exam week”.").wait_for()
