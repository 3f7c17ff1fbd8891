"""The modified column of a concept arithmetic is described from its own captions, as "q + add − sub"."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from apps.generation import services
from apps.search.filters import Filters
from apps.search.params import Arithmetic
from apps.search.selectors import arithmetic_search
from tests import factories

pytestmark = pytest.mark.django_db

CAPTIONS = [
    "Chest radiograph showing right lower lobe pneumonia with consolidation.",
    "Normal chest radiograph with clear lungs.",
    "Chest radiograph showing a pacemaker generator and leads.",
    "Axial CT of the abdomen with a liver mass.",
    "Ultrasound of the thyroid with a nodule.",
]
TERMS = Arithmetic(query="chest radiograph", add="pacemaker", sub="clear lungs")


@pytest.fixture
def corpus():
    images = factories.images(*CAPTIONS)
    call_command("embed", "--space", "caption", stdout=io.StringIO(), stderr=io.StringIO())
    return images


def test_the_modified_column_is_described_from_the_captions_it_shows_under_its_own_label(corpus):
    original, modified = arithmetic_search(terms=TERMS, k=2, filters=Filters(origin="real"))

    job = services.description_submit(owner=factories.user(), arithmetic=TERMS, k=2)

    left, right = job.params["items"]
    assert left["query"] == "chest radiograph"
    assert right["query"] == "chest radiograph + pacemaker − clear lungs"
    assert [s["image_id"] for s in left["sources"]] == [hit.image.pk for hit in original.hits]
    assert [s["image_id"] for s in right["sources"]] == [hit.image.pk for hit in modified.hits]
    # Not a fresh search for "chest radiograph pacemaker": the subtracted concept counts.
    assert right["sources"][0]["caption"] == modified.hits[0].image.caption


def test_the_describe_link_of_an_arithmetic_comparison_carries_the_terms_and_shows_the_prompt(client, corpus):
    client.force_login(factories.user())
    page = client.get(
        reverse("comparison:compare"),
        {"mode": "arith", "q": "chest radiograph", "add": "pacemaker", "sub": "clear lungs"},
    ).content.decode()
    assert 'name="sub" value="clear lungs"' in page and "Describe both columns" in page

    preview = client.get(
        reverse("generation:describe"),
        {"q": "chest radiograph", "add": "pacemaker", "sub": "clear lungs", "k": "2"},
    ).content.decode()

    assert "Captions for <q>chest radiograph + pacemaker − clear lungs</q>" in preview
    assert "Explain the medical condition &#x27;chest radiograph + pacemaker − clear lungs&#x27;" in preview
    assert 'type="hidden" name="sub" value="clear lungs"' in preview
