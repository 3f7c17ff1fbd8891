"""The search page and the image page, through Django's test client."""

from __future__ import annotations

import io

import pytest
from django.core.cache import caches
from django.core.cache.utils import make_template_fragment_key
from django.core.management import call_command
from django.urls import reverse

from apps.corpus.models import Dataset
from tests import factories

pytestmark = pytest.mark.django_db


def test_search_page_explains_itself_before_any_query(client):
    response = client.get(reverse("search:search"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Describe the image you are looking for" in page
    assert "chest X-ray with pneumothorax" in page  # an example query
    assert "For education, not diagnosis" in page


def test_results_show_caption_score_modality_licence_and_source(client):
    (image,) = factories.images(
        "Chest radiograph showing a right pneumothorax.",
        pmc_id="PMC3970251",
        article_url="https://www.ncbi.nlm.nih.gov/pmc/articles/PMC3970251/",
    )
    call_command("embed", "--space", "caption", stdout=io.StringIO(), stderr=io.StringIO())

    response = client.get(reverse("search:search"), {"q": "pneumothorax", "k": "10"})

    page = response.content.decode()
    assert response.status_code == 200
    assert "Chest radiograph showing a right pneumothorax." in page
    assert "100%" not in page  # coming first is no similarity
    assert "found by 2 of 2 ways of searching" in page
    assert "similarity" in page
    assert "Radiograph (X-ray)" in page and "CC BY" in page
    assert "PMC3970251" in page and image.thumbnail.url in page
    assert reverse("corpus:image_detail", args=[image.pk]) in page


def test_a_result_card_is_kept_under_the_images_version_and_shows_every_change(client):
    (image,) = factories.images("Chest radiograph showing a right pneumothorax.", external_id="CARD_1")
    search = {"q": "pneumothorax", "k": "10"}
    assert "a right pneumothorax" in client.get(reverse("search:search"), search).content.decode()
    key = make_template_fragment_key("image-card", [image.pk, image.updated_at, image.dataset.name])
    kept = caches["cards"].get(key)
    assert kept is not None and "a right pneumothorax" in kept
    assert reverse("search:similar", args=[image.pk]) in kept  # "More like this" is part of it

    Dataset.objects.filter(pk=image.dataset_id).update(name="Renamed collection")
    page = client.get(reverse("search:search"), search).content.decode()
    assert "Renamed collection" in page and "a right pneumothorax" in page

    factories.images("Chest radiograph showing a left pneumothorax.", external_id="CARD_1")  # corrected
    page = client.get(reverse("search:search"), search).content.decode()
    assert "a left pneumothorax" in page and "a right pneumothorax" not in page


@pytest.mark.parametrize("query", ["", "    ", "y" * 1001])
def test_bad_queries_get_a_message_and_a_400_never_an_error_page(client, query):
    response = client.get(reverse("search:search"), {"q": query})
    assert response.status_code == 400
    assert 'role="alert"' in response.content.decode()


@pytest.mark.parametrize("k", ["0", "101", "ten"])
def test_bad_result_counts_get_a_message_and_a_400(client, k):
    response = client.get(reverse("search:search"), {"q": "chest", "k": k})
    assert response.status_code == 400
    assert "from 1 to 100" in response.content.decode()


def test_image_page_shows_everything_needed_to_cite_it(client):
    (image,) = factories.images(
        "Axial CT of the pelvis showing bladder wall thickening.",
        keywords=["pelvi", "bladder"],
        cuis=["C0005682"],
        semtypes=[("T060", "Diagnostic Procedure")],
        pmc_id="PMC3970251",
        article_url="https://www.ncbi.nlm.nih.gov/pmc/articles/PMC3970251/",
        licence_raw="CC BY-NC",
    )
    response = client.get(reverse("corpus:image_detail", args=[image.pk]))
    page = response.content.decode()
    assert response.status_code == 200
    for text in [
        "Axial CT of the pelvis",
        "C0005682",
        "Diagnostic Procedure",
        "CC BY-NC",
        "Test dataset",
        "PMC3970251",
    ]:
        assert text in page
    assert image.file.url in page


def test_unknown_image_is_a_404(client):
    assert client.get(reverse("corpus:image_detail", args=[999999])).status_code == 404
