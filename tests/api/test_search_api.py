"""The search, image and comparison endpoints: same selectors as the pages, JSON in and out."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from rest_framework.test import APIClient

from apps.corpus.models import Image
from tests import factories

pytestmark = pytest.mark.django_db

CAPTIONS = [
    "Chest radiograph showing a right pneumothorax.",
    "Normal chest radiograph with clear lungs.",
    "Axial CT of the head with a subdural haematoma.",
]


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def corpus():
    images = factories.images(*CAPTIONS)
    call_command("embed", "--space", "caption", stdout=io.StringIO(), stderr=io.StringIO())
    return images


def test_text_search_returns_ranked_hits_with_citation_fields(api, corpus):
    response = api.get("/api/search/", {"q": "pneumothorax on a chest x-ray", "k": 2})

    assert response.status_code == 200
    body = response.json()
    assert body["k"] == 2 and body["page"] == 1 and len(body["hits"]) == 2
    top = body["hits"][0]
    assert top["image"]["caption"] == CAPTIONS[0]
    assert top["image"]["licence"] == "cc-by" and top["image"]["dataset"] == "test"
    assert top["image"]["thumbnail_url"].startswith("http://testserver/media/thumbs/")
    assert "caption" in top["channels"] and top["channels"]["caption"]["rank"] == 1
    assert any("pictures themselves is not available" in notice for notice in body["notices"])


@pytest.mark.parametrize(
    "params, field",
    [
        ({"q": ""}, "q"),
        ({"q": "x" * 1001}, "q"),
        ({"q": "chest", "k": 0}, "k"),
        ({"q": "chest", "page": "two"}, "page"),
        ({"q": "chest", "modality": "tarot"}, "modality"),
    ],
)
def test_bad_search_parameters_get_a_json_error_naming_the_parameter(api, params, field):
    error = factories.assert_error(api.get("/api/search/", params), 400, "invalid")
    assert error["fields"] == {field: [error["message"]]}


def test_arithmetic_returns_original_and_modified(api, corpus):
    response = api.get(
        "/api/search/arithmetic/", {"q": "chest radiograph", "add": "pneumothorax", "sub": "clear"}
    )
    body = response.json()
    assert response.status_code == 200
    assert body["modified"]["label"] == "chest radiograph + pneumothorax − clear"
    assert body["modified"]["hits"][0]["image"]["caption"] == CAPTIONS[0]


def test_compare_returns_two_columns(api, corpus):
    response = api.get("/api/compare/", {"a": "pneumothorax", "b": "head CT", "k": 1})
    body = response.json()
    assert [body["left"]["hits"][0]["image"]["caption"], body["right"]["hits"][0]["image"]["caption"]] == [
        CAPTIONS[0],
        CAPTIONS[2],
    ]


def test_image_upload_search_and_its_errors(api, settings, tiny_clip_dir):
    png = io.BytesIO()
    factories.picture(5).save(png, format="PNG")
    factories.images(*CAPTIONS)

    offline = api.post(
        "/api/search/image/", {"image": SimpleUploadedFile("q.png", png.getvalue())}, format="multipart"
    )
    assert offline.status_code == 409
    assert offline.json()["error"]["message"] == "Searching by picture is not available on this server."

    settings.MIRAGE_CLIP_MODEL = str(tiny_clip_dir)
    call_command("embed", stdout=io.StringIO(), stderr=io.StringIO())
    ok = api.post(
        "/api/search/image/",
        {"image": SimpleUploadedFile("q.png", png.getvalue()), "k": 2},
        format="multipart",
    )
    assert ok.status_code == 200 and len(ok.json()["hits"]) == 2

    corrupt = api.post(
        "/api/search/image/",
        {"image": SimpleUploadedFile("q.png", b"\x89PNG\r\n\x1a\nnope")},
        format="multipart",
    )
    assert corrupt.status_code == 400 and corrupt.json()["error"]["code"] == "invalid"
    missing = api.post("/api/search/image/", {"k": 2}, format="multipart")
    assert missing.status_code == 400
    as_json = api.post("/api/search/image/", {"k": 2}, format="json")
    assert as_json.status_code == 415 and as_json.json()["error"]["code"] == "unsupported_media_type"
    huge = api.post(
        "/api/search/image/",
        {"image": SimpleUploadedFile("big.png", b"\x89PNG\r\n\x1a\n" + b"\0" * (21 * 2**20))},
        format="multipart",
    )
    assert huge.status_code == 413 and huge.json()["error"]["code"] == "too_large"


def test_image_detail_respects_moderation(api, corpus):
    author = factories.user()
    pending = corpus[1]
    Image.objects.filter(pk=pending.pk).update(
        is_synthetic=True, owner=author, moderation_state=Image.PENDING
    )

    assert api.get(f"/api/images/{corpus[0].pk}/").json()["caption"] == CAPTIONS[0]
    assert api.get(f"/api/images/{pending.pk}/").status_code == 404
    api.force_authenticate(author)
    assert api.get(f"/api/images/{pending.pk}/").json()["moderation_state"] == "pending"


def test_search_is_throttled_per_anonymous_client(api, corpus, settings):
    settings.MIRAGE_RATE_LIMITS = {
        **settings.MIRAGE_RATE_LIMITS,
        "search": {"user": "100/min", "anon": "2/min"},
    }
    codes = [api.get("/api/search/", {"q": "chest"}).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
