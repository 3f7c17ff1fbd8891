"""Instructors' relevance ratings: from a result card and the API, one per (query, image, rater),
exported as TREC qrels and CSV, and scored by `evaluate_retrieval --qrels`."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.db import IntegrityError
from django.urls import reverse

from apps.search.models import RelevanceRating
from apps.search.ratings import ndcg_at, precision_at, read_qrels
from tests import factories

pytestmark = pytest.mark.django_db


def test_an_instructor_rates_a_result_from_its_card_and_a_second_grade_replaces_the_first(client, people):
    (image,) = factories.images("Chest radiograph with pneumothorax.")
    client.force_login(people["instructor"])
    back = reverse("search:search") + "?q=pneumothorax"

    for grade in ("1", "2"):
        response = client.post(
            reverse("search:rate"),
            {"query": "  Pneumothorax   X-ray ", "image": image.pk, "grade": grade, "next": back},
        )
        assert response.status_code == 302 and response["Location"] == back

    (rating,) = RelevanceRating.objects.all()
    assert (rating.query, rating.image, rating.grade) == ("pneumothorax x-ray", image, 2)


def test_students_and_visitors_cannot_rate(client, people):
    (image,) = factories.images("Chest radiograph with pneumothorax.")
    data = {"query": "pneumothorax", "image": image.pk, "grade": "2"}

    assert client.post(reverse("search:rate"), data).status_code == 302  # to the log-in page
    client.force_login(people["student"])
    assert client.post(reverse("search:rate"), data).status_code == 403
    assert RelevanceRating.objects.count() == 0


def test_one_rating_per_normalised_query_image_and_rater(people):
    (image,) = factories.images("Chest radiograph.")
    RelevanceRating.objects.create(query="chest", image=image, rater=people["instructor"], grade=2)
    with pytest.raises(IntegrityError):
        RelevanceRating.objects.create(query="chest", image=image, rater=people["instructor"], grade=0)


def test_the_api_rates_and_exports_qrels_and_csv(people, tmp_path):
    a, b = factories.images("Chest radiograph with pneumothorax.", "Axial CT of the brain.")
    api = factories.api_as(people["instructor"])

    assert (
        api.post("/api/search/ratings/", {"query": "Pneumothorax", "image": a.pk, "grade": 2}).status_code
        == 200
    )
    assert (
        api.post("/api/search/ratings/", {"query": "pneumothorax", "image": b.pk, "grade": 0}).status_code
        == 200
    )
    assert (
        api.post("/api/search/ratings/", {"query": "pneumothorax", "image": b.pk, "grade": 7}).status_code
        == 400
    )

    qrels = api.get("/api/search/ratings/").content.decode()
    assert qrels.splitlines() == sorted(
        [f"pneumothorax 0 {a.external_id} 2", f"pneumothorax 0 {b.external_id} 0"]
    )
    csv_text = api.get("/api/search/ratings/", {"as": "csv"}).content.decode()
    assert csv_text.startswith("query,image,image_pk,rater,grade") and "Relevant" in csv_text
    path = tmp_path / "ratings.qrels"
    path.write_text(qrels)
    assert read_qrels(path) == {"pneumothorax": {a.external_id: 2, b.external_id: 0}}
    assert factories.api_as(people["student"]).get("/api/search/ratings/").status_code == 403


def test_ndcg_and_precision_at_10():
    judged = {"a": 2, "b": 1, "c": 0}
    assert ndcg_at(["a", "b", "x"], judged) == pytest.approx(1.0)
    assert ndcg_at(["x", "b", "a"], judged) < 1.0
    assert precision_at(["a", "b", "c"], judged) == pytest.approx(0.2)


def test_evaluate_retrieval_scores_each_ranking_on_a_qrels_file(tmp_path):
    a, b, c = factories.images(
        "Chest radiograph with a right pneumothorax.",
        "Axial CT of the brain with a subdural haematoma.",
        "MRI of the knee.",
    )
    call_command("embed", "--space", "caption", stdout=io.StringIO(), stderr=io.StringIO())
    path = tmp_path / "ratings.qrels"
    qid = "pneumothorax_chest_radiograph"
    path.write_text(f"{qid} 0 {a.external_id} 2\n{qid} 0 {b.external_id} 0\n")
    out = io.StringIO()

    call_command("evaluate_retrieval", "--qrels", str(path), stdout=out)

    table = out.getvalue()
    assert "| fused | 1 | 1.000 | 0.100 |" in table
    assert "| reranked | 1 |" in table
    assert "paper: not evaluated" in table  # CLIP is not installed here
