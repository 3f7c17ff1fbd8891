"""The map's build command, its cache key, and its JSON endpoints (caption space, offline)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from apps.atlas.models import AtlasMap
from apps.atlas.services import atlas_build, atlas_key
from apps.corpus.models import EmbeddingSpace, Image
from tests import factories

CAPTIONS = (
    "Chest radiograph showing a large right pneumothorax.",
    "Axial CT of the brain with an acute subdural haematoma.",
    "Ultrasound of the gallbladder with multiple gallstones.",
    "Sagittal MRI of the knee showing an anterior cruciate ligament tear.",
    "Chest X-ray with bilateral pneumonia.",
)


def embed() -> None:
    call_command("embed", "--space", "caption", stdout=io.StringIO(), stderr=io.StringIO())


@pytest.fixture
def corpus(db):
    images = factories.images(*CAPTIONS)
    embed()
    return images


def test_atlas_build_maps_every_vector_of_the_space(corpus):
    out = io.StringIO()
    call_command("atlas", "build", "--space", "caption", stdout=out)
    atlas = AtlasMap.objects.get(space__name="caption")
    assert "caption: 5 of 5 vectors mapped" in out.getvalue()
    assert sorted(atlas.ids().tolist()) == sorted(image.pk for image in corpus)
    assert atlas.coordinates().shape == (5, 2)


def test_building_twice_gives_the_same_coordinates(corpus):
    space = EmbeddingSpace.objects.get(name="caption")
    first = atlas_build(space=space).coordinates().copy()
    assert np.array_equal(first, atlas_build(space=space).coordinates())


def test_adding_images_makes_the_map_stale_and_the_next_request_rebuilds_it(client, corpus):
    space = EmbeddingSpace.objects.get(name="caption")
    atlas_build(space=space)
    factories.images("Mammogram with a spiculated mass.", slug="more")
    embed()
    assert AtlasMap.objects.get(space=space).key != atlas_key(space=space)
    body = client.get("/map/points.json?space=caption").json()
    assert len(body["id"]) == 6 and not body["stale"]
    assert AtlasMap.objects.get(space=space).key == atlas_key(space=space)


def test_points_carry_coordinates_and_modality_and_leave_out_what_the_visitor_may_not_see(client, corpus):
    Image.objects.filter(pk=corpus[1].pk).update(moderation_state=Image.PENDING)
    body = client.get("/map/points.json").json()
    assert body["space"] == "caption" and body["ready"]
    assert corpus[1].pk not in body["id"] and len(body["id"]) == 4
    assert len(body["x"]) == len(body["y"]) == len(body["m"]) == 4
    labels = [body["modalities"][m]["label"] for m in body["m"]]
    assert labels[body["id"].index(corpus[0].pk)] == "Radiograph (X-ray)"
    assert client.get(f"/map/points/{corpus[1].pk}.json").status_code == 404


def test_a_point_gives_its_caption_thumbnail_and_page(client, corpus):
    body = client.get(f"/map/points/{corpus[2].pk}.json").json()
    assert body["caption"] == CAPTIONS[2] and body["modality"] == "Ultrasound"
    assert body["url"] == f"/images/{corpus[2].pk}/" and body["thumbnail"]


def test_a_text_query_lands_near_its_best_result(client, corpus):
    body = client.get("/map/query.json?q=collapsed+lung+pneumothorax").json()
    points = client.get("/map/points.json").json()
    assert body["results"][0] == corpus[0].pk and body["to"] is None
    at = {pk: np.array([x, y]) for pk, x, y in zip(points["id"], points["x"], points["y"], strict=True)}
    distances = {pk: np.linalg.norm(at[pk] - np.array(body["q"])) for pk in at}
    assert min(distances, key=distances.get) in body["results"][:2]


def test_an_arithmetic_query_has_an_arrow_from_q_to_the_combined_vector(client, corpus):
    body = client.get("/map/query.json?q=chest+x-ray&add=pneumonia&sub=pneumothorax").json()
    assert body["label"] == "chest x-ray + pneumonia − pneumothorax"
    assert body["to"] is not None and body["to"] != body["q"]
    assert body["results"][0] == corpus[4].pk


def test_an_empty_query_is_a_json_error(client, corpus):
    response = client.get("/map/query.json?q=+")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"


def test_the_map_page_explains_itself_and_without_vectors_says_how_to_make_some(client, db):
    page = client.get("/map/").content.decode()
    assert "Map of the corpus" in page and "The map is not available on this server yet." in page
    assert "manage.py" not in page  # a student reads one plain sentence; the commands are for staff
    client.force_login(factories.user(is_staff=True))
    assert "manage.py embed --space caption" in client.get("/map/").content.decode()
    assert client.get("/map/points.json?space=nowhere").status_code == 404


def test_an_image_of_the_corpus_is_placed_on_its_own_point_with_the_images_most_like_it(client, corpus):
    body = client.get(f"/map/query.json?image={corpus[0].pk}").json()
    points = client.get("/map/points.json").json()
    at = {pk: [x, y] for pk, x, y in zip(points["id"], points["x"], points["y"], strict=True)}

    assert body["label"] == f"image {corpus[0].external_id}" and body["to"] is None
    assert np.allclose(body["q"], at[corpus[0].pk], atol=1e-3)
    assert corpus[0].pk not in body["results"] and body["results"][0] == corpus[4].pk  # the other chest film


def test_a_typed_query_wins_over_the_image_and_a_hidden_or_malformed_image_is_refused(client, corpus):
    Image.objects.filter(pk=corpus[1].pk).update(moderation_state=Image.PENDING)

    typed = client.get(f"/map/query.json?image={corpus[0].pk}&q=subdural+haematoma").json()
    hidden = client.get(f"/map/query.json?image={corpus[1].pk}")
    malformed = client.get("/map/query.json?image=abc")

    assert typed["label"] == "subdural haematoma"
    assert hidden.status_code == 404 and malformed.status_code == 400


def test_the_image_page_links_to_its_place_on_the_map(client, corpus):
    page = client.get(f"/images/{corpus[0].pk}/").content.decode()
    atlas = client.get(f"/map/?image={corpus[0].pk}").content.decode()
    assert f'href="/map/?image={corpus[0].pk}"' in page
    assert f'name="image" value="{corpus[0].pk}"' in atlas


def test_a_caption_map_says_plainly_why_a_picture_cannot_be_placed(client, corpus):
    page = client.get("/map/").content.decode()
    upload = SimpleUploadedFile("mine.png", factories.png_bytes(), content_type="image/png")
    response = client.post("/map/picture.json", {"space": "caption", "image": upload})

    assert "a picture has no caption" in page and 'name="image" type="file"' not in page
    assert response.status_code == 409
    assert "choose the CLIP image space" in response.json()["error"]["message"]


@pytest.fixture
def clip_map(settings, tiny_clip_dir, db):
    settings.MIRAGE_CLIP_MODEL = str(tiny_clip_dir)
    images = factories.images(*CAPTIONS)
    call_command("embed", stdout=io.StringIO(), stderr=io.StringIO())
    return images


def test_an_uploaded_picture_is_placed_on_the_clip_map_with_the_images_nearest_to_it(client, clip_map):
    page = client.get("/map/?space=clip").content.decode()
    own = clip_map[2]
    with own.file.open("rb") as stored:  # the corpus image's own file: it lands on its own point
        upload = SimpleUploadedFile("mine.jpg", stored.read())
    body = client.post("/map/picture.json", {"space": "clip", "image": upload}).json()
    points = client.get("/map/points.json?space=clip").json()
    at = {pk: [x, y] for pk, x, y in zip(points["id"], points["x"], points["y"], strict=True)}

    assert 'name="image" type="file"' in page
    assert body["label"] == "image mine.jpg" and body["to"] is None
    assert body["results"][0] == own.pk and len(body["results"]) == len(CAPTIONS)
    assert np.allclose(body["q"], at[own.pk], atol=1e-3)


def test_an_upload_is_checked_as_the_search_page_checks_it(client, clip_map):
    def place(data: bytes | None):
        upload = {} if data is None else {"image": SimpleUploadedFile("x.png", data)}
        return client.post("/map/picture.json", {"space": "clip", **upload})

    empty, garbage, missing = place(b""), place(b"not a picture"), place(None)

    assert empty.status_code == 400 and empty.json()["error"]["message"] == "x.png is empty."
    assert garbage.status_code == 400 and missing.status_code == 400
    assert client.get("/map/picture.json").status_code == 405
