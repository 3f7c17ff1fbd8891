"""A description warns before the answer when its captions match the request only weakly."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from apps.generation.selectors import WEAK_CAPTION_SIMILARITY, description_preview
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

    assert close["sources"][0]["similarity"] >= WEAK_CAPTION_SIMILARITY and not close["weak"]
    assert far["weak"]


def test_the_describe_page_warns_before_the_answer_when_the_match_is_weak(client, corpus):
    client.force_login(factories.user())

    weak = client.get(reverse("generation:describe"), {"q": "xyzzyqwerty", "k": "1"}).content.decode()
    strong = client.get(
        reverse("generation:describe"), {"q": "pneumothorax chest radiograph"}
    ).content.decode()

    assert "only weakly" in weak
    assert "only weakly" not in strong
