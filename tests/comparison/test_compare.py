"""The comparison page: two queries, or a query and its arithmetic, with all state in the URL."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils.http import urlencode

from tests import factories

pytestmark = pytest.mark.django_db

CAPTIONS = [
    "Chest radiograph showing right lower lobe pneumonia with consolidation.",
    "Normal chest radiograph with clear lungs.",
    "Chest radiograph showing a pacemaker generator and leads.",
    "Axial CT of the abdomen with a liver mass.",
    "Ultrasound of the thyroid with a nodule.",
]


@pytest.fixture
def corpus():
    images = factories.images(*CAPTIONS)
    factories.images("Chest CT with pneumonia.", modality="ct")
    call_command("embed", "--space", "caption", stdout=io.StringIO(), stderr=io.StringIO())
    return images


def columns(page: str) -> list[str]:
    return re.findall(r'<section class="column".*?</section>', page, flags=re.S)


def captions_in(column: str) -> list[str]:
    return re.findall(r'<p class="caption"><a href="[^"]+">([^<]+)</a>', column)


def test_two_queries_side_by_side_each_with_its_own_ranking(client, corpus):
    response = client.get(
        reverse("comparison:compare"), {"mode": "pair", "a": "pneumonia", "b": "clear lungs", "k": "2"}
    )

    left, right = columns(response.content.decode())
    assert response.status_code == 200
    assert captions_in(left)[0] == CAPTIONS[0]
    assert captions_in(right)[0] == CAPTIONS[1]
    assert len(captions_in(left)) == len(captions_in(right)) == 2


def test_a_comparison_url_round_trips_and_a_reload_shows_the_same_page(client, corpus, settings):
    settings.MIRAGE_SIMILARITY_FLOOR_CAPTION = -1.0  # three results a column: this tests the page's state
    state = {
        "mode": "arith",
        "q": "Chest X-ray",
        "add": "Pacemaker generator and leads",
        "sub": "No foreign bodies",
        "wq": "1",
        "wadd": "0.8",
        "wsub": "1.2",
        "k": "3",
        "modality": "radiograph",
        "licence": "open",
    }
    url = reverse("comparison:compare") + "?" + urlencode(state)

    first = client.get(url).content.decode()
    again = client.get(url).content.decode()

    assert columns(first) == columns(again)
    # Every piece of state is back in the form, so the page can be changed and submitted again.
    for name in ("q", "add", "sub"):
        assert re.search(rf'name="{name}"[^>]*value="{re.escape(state[name])}"', first)
    assert re.search(r'name="wadd"[^>]*value="0.8"', first)
    assert re.search(r'<option value="radiograph" selected>', first)
    assert re.search(r'<option value="open" selected>', first)
    left, right = columns(first)
    assert "Chest X-ray + 0.8×Pacemaker generator and leads − 1.2×No foreign bodies" in right
    assert "Chest CT with pneumonia." not in first  # the modality filter applies to both columns
    assert len(captions_in(left)) == len(captions_in(right)) == 3


def test_the_demos_three_presets_are_one_click_links_labelled_as_the_demos(client):
    page = client.get(reverse("comparison:compare")).content.decode()
    links = re.findall(r'<a class="preset" href="([^"]+)"', page)
    assert len(links) == 3
    assert "q=Chest+X-Ray&amp;add=Soft+Tissue&amp;sub=Bones" in links[0]
    assert "add=Pneumonia&amp;sub=Clear+Lungs" in links[1]
    assert "add=Pacemaker+generator+and+leads&amp;sub=No+foreign+bodies" in links[2]
    assert "The public demo&#x27;s examples:" in page or "The public demo's examples:" in page


def test_the_papers_figure_is_a_one_click_example_beside_them(client):
    page = client.get(reverse("comparison:compare")).content.decode()

    link = re.search(r'<a class="paper-figure" href="([^"]+)"', page).group(1)
    assert "q=Neonatal+chest+X-ray+with+ground-glass+opacity+consistent+with+RDS" in link
    assert "add=meconium+aspiration+syndrome" in link and "sub=RDS" in link and "mode=arith" in link


def test_the_search_page_offers_the_demos_example_queries_beside_ours(client):
    page = client.get(reverse("search:search")).content.decode()

    links = re.findall(r'<a class="demo-example" href="\?q=([^"]+)"', page)
    assert len(links) == 3
    assert "glioblastoma" in links[0] and "metastatic" in links[1] and "pleural%20effusion" in links[2]
    assert "chest X-ray with pneumothorax" in page  # ours stay


def test_arithmetic_with_only_an_added_term_is_allowed(client, corpus):
    response = client.get(
        reverse("comparison:compare"), {"mode": "arith", "q": "chest radiograph", "add": "pacemaker"}
    )
    assert response.status_code == 200
    assert "chest radiograph + pacemaker" in response.content.decode()


@pytest.mark.parametrize(
    "params, message",
    [
        ({"mode": "pair", "a": "pneumonia", "b": "  "}, "Type what you are looking for"),
        ({"mode": "arith", "q": "chest", "wadd": "five"}, "must be a number"),
        ({"mode": "arith", "q": "chest", "wsub": "9"}, "from 0 to 2"),
        ({"mode": "pair", "a": "x", "b": "y", "k": "500"}, "from 1 to 100"),
        ({"mode": "sideways", "a": "x"}, "Unknown comparison mode"),
    ],
)
def test_bad_comparisons_get_a_message_and_a_400(client, corpus, params, message):
    response = client.get(reverse("comparison:compare"), params)
    assert response.status_code == 400
    assert message in response.content.decode()
