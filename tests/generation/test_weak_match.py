"""A description warns before the answer when its captions match the request only weakly: the search's
own judgement (its similarity floors), one rule for results and descriptions."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from apps.generation.selectors import description_preview
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def corpus():
    factories.images(
        "Chest radiograph showing a right-sided pneumothorax.",
        "Axial CT of the abdomen with a liver mass.",
    )
    call_command("embed", "--space", "caption", stdout=io.StringIO(), stderr=io.StringIO())


def test_captions_far_from_the_request_are_weak_and_close_ones_are_not(corpus):
    close, far = description_preview(queries=["pneumothorax on a chest radiograph", "xyzzyqwerty"], k=1)

    assert close["sources"] and not close["weak"]
    assert far["weak"] and not far["sources"]  # nothing above the floor: nothing to ground a description in


def test_the_describe_page_warns_before_the_answer_when_the_match_is_weak(client, corpus):
    client.force_login(factories.user())

    # Found by the caption meaning alone, not by its words: a weak match with a source to show.
    weak = client.get(reverse("generation:describe"), {"q": "collapsed lung", "k": "1"}).content.decode()
    strong = client.get(
        reverse("generation:describe"), {"q": "pneumothorax chest radiograph"}
    ).content.decode()

    assert "only weakly" in weak and "pneumothorax" in weak
    assert "only weakly" not in strong


def test_a_request_nothing_matches_has_no_captions_and_says_so(client, corpus):
    client.force_login(factories.user())

    page = client.get(reverse("generation:describe"), {"q": "xyzzyqwerty"}).content.decode()

    assert "No image captions matched" in page
