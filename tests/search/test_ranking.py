"""Honest results and the choice of ranking: similarity floors, "no good match", the paper's exact
CLIP ranking, and re-ranking by a description."""

from __future__ import annotations

import io

import numpy as np
import pytest
from django.core.management import call_command
from django.urls import reverse

from apps.corpus.models import Embedding, EmbeddingSpace
from apps.corpus.spaces import CLIP, configured_spaces
from apps.ml.encoders import load_encoder
from apps.search.channels import above_floor
from apps.search.params import Arithmetic, QueryError, text_search_params
from apps.search.selectors import NONE, arithmetic_search, text_search
from tests import factories

pytestmark = pytest.mark.django_db

CAPTIONS = [
    "Transthoracic echocardiography, apical four-chamber view of the heart showing a dilated left ventricle.",
    "Doppler ultrasound of a cervical lymph node with hilar vascularity.",
    "Chest radiograph showing a large right-sided pneumothorax.",
    "Axial CT of the brain showing an acute subdural haematoma.",
    "Sagittal T2-weighted MRI of the knee with a torn anterior cruciate ligament.",
]


def embed(*spaces: str) -> None:
    args = [arg for space in spaces for arg in ("--space", space)]
    call_command("embed", *args, stdout=io.StringIO(), stderr=io.StringIO())


def test_a_nonsense_query_says_there_is_no_good_match(client):
    factories.images(*CAPTIONS)
    embed("caption")

    result = text_search(query="xyzzyqwerty", k=10)

    assert result.hits == [] and result.total == 0 and result.match == NONE
    assert "Try other words" in result.advice
    page = client.get(reverse("search:search"), {"q": "xyzzyqwerty"}).content.decode()
    assert "No good match for" in page and "Try other words" in page


def test_an_echo_query_finds_the_echocardiogram_and_not_the_whole_corpus():
    images = factories.images(*CAPTIONS)
    embed("caption")

    result = text_search(query="ultrasound of the heart", k=10)

    assert result.hits[0].image == images[0]
    assert result.total < len(CAPTIONS)  # the brain CT and the knee MRI are no match
    assert all(hit.percent is None or hit.percent < 100 for hit in result.hits)


def test_floors_drop_only_embedding_neighbours_below_them():
    rankings = {
        "caption": [(1, 0.6), (2, 0.29), (3, 0.1)],
        "clip": [(4, 0.25), (5, 0.19)],
        "text": [(6, 0.01)],
    }

    kept = above_floor(rankings, {"caption": 0.3, "clip": 0.2})

    assert kept == {"caption": [(1, 0.6)], "clip": [(4, 0.25)], "text": [(6, 0.01)]}


def test_a_result_found_by_one_way_only_is_called_weak(settings):
    factories.images(*CAPTIONS)
    embed("caption")
    settings.MIRAGE_SIMILARITY_FLOOR_CAPTION = 0.99  # nothing is close enough in meaning

    result = text_search(query="pneumothorax", k=10)  # full text still finds the word

    assert [hit.found_by for hit in result.hits] == [1]
    assert result.match == "weak" and result.advice


def test_the_api_reports_similarity_agreement_and_match(client):
    factories.images(*CAPTIONS)
    embed("caption")

    body = client.get("/api/search/", {"q": "pneumothorax chest radiograph"}).json()

    assert body["match"] == "good" and body["ranking"] == "fused"
    top = body["hits"][0]
    assert top["found_by"] == 2 and top["ways"] == 2
    assert 0 < top["similarity"] < 1
    assert client.get("/api/search/", {"q": "xyzzyqwerty"}).json()["match"] == "none"


def test_an_unknown_ranking_is_refused_with_a_message():
    with pytest.raises(QueryError, match="ranking must be one of"):
        text_search_params({"q": "chest", "ranking": "best"})


def test_the_papers_ranking_says_so_when_clip_is_not_installed(client):
    factories.images(*CAPTIONS)
    embed("caption")

    with pytest.raises(QueryError) as caught:
        text_search(query="chest x-ray", ranking="paper")
    assert caught.value.status == 409 and "paper's ranking" in str(caught.value)
    response = client.get("/api/search/", {"q": "chest x-ray", "ranking": "paper"})
    assert response.status_code == 409 and "CLIP" in response.json()["error"]["message"]
    page = client.get(reverse("search:search"), {"q": "chest x-ray", "ranking": "paper"})
    assert page.status_code == 409 and "paper" in page.content.decode()


@pytest.fixture
def clip_corpus(settings, tiny_clip_dir):
    settings.MIRAGE_CLIP_MODEL = str(tiny_clip_dir)
    images = factories.images(*[f"{caption} Case {n}." for n in range(6) for caption in CAPTIONS])
    embed()
    return images


def test_the_papers_ranking_is_the_exact_clip_cosine_order_with_no_floor(settings, clip_corpus):
    settings.MIRAGE_SIMILARITY_FLOOR_CLIP = 0.99  # ignored: the paper's ranking has no floor
    encoder = load_encoder(configured_spaces()[CLIP].model)
    vector = encoder.encode_query("chest x-ray")
    space = EmbeddingSpace.objects.get(name=CLIP)
    stored = {e.image_id: np.asarray(e.vector) for e in Embedding.objects.filter(space=space)}
    by_hand = sorted(stored, key=lambda pk: -float(stored[pk] @ vector))[:10]

    result = text_search(query="chest x-ray", k=10, ranking="paper")

    assert [hit.image.pk for hit in result.hits] == by_hand
    assert result.channels == ["clip"] and result.ranking == "paper"
    assert [hit.similarity for hit in result.hits] == pytest.approx(
        [float(stored[pk] @ vector) for pk in by_hand]
    )


def test_the_comparison_page_and_arithmetic_honour_the_ranking(client, clip_corpus):
    terms = Arithmetic(query="chest x-ray", add="pneumothorax", sub="brain")
    left, right = arithmetic_search(terms=terms, k=5, ranking="paper")
    assert left.channels == right.channels == ["clip"] and right.ranking == "paper"

    response = client.get(reverse("comparison:compare"), {"a": "chest", "b": "knee", "ranking": "paper"})
    assert response.status_code == 200
    assert [column.ranking for column in response.context["columns"]] == ["paper", "paper"]


def test_reranking_orders_the_first_results_by_the_description(settings):
    images = factories.images(*CAPTIONS)
    embed("caption")
    settings.MIRAGE_SIMILARITY_FLOOR_CAPTION = -1.0  # every image a candidate

    plain = text_search(query="medical image", k=5, ranking="reranked")
    described = text_search(
        query="medical image", k=5, ranking="reranked", description="torn ligament of the knee on MRI"
    )

    assert described.hits[0].image == images[4]
    assert described.hits[0].rerank_similarity >= described.hits[1].rerank_similarity
    assert any("description" in notice for notice in described.notices)
    assert any("three captions" in notice for notice in plain.notices)


def test_a_description_without_reranking_is_refused():
    with pytest.raises(QueryError, match="re-ranked"):
        text_search_params({"q": "chest", "description": "a chest film"})
