"""The study set endpoints: who may do what (owner, another student, an instructor, a moderator and
an anonymous client), what each returns, and the JSON errors."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest
from rest_framework.test import APIClient

from apps.core.tokens import api_token_create
from apps.studysets.models import StudySet
from tests import factories
from tests.factories import api_as, assert_error
from tests.studysets.helpers import generated_by, reject, studyset

pytestmark = pytest.mark.django_db

ROLES = ["owner", "student", "instructor", "moderator", "anonymous"]
OTHERS = ["student", "instructor", "moderator"]
CAPTIONS = (
    "Chest radiograph with a right pneumothorax.",
    "Axial CT of the head with a subdural haematoma.",
    "Ultrasound of the gallbladder with gallstones.",
)


def a_set(owner, visibility=StudySet.PRIVATE, *, count: int = 1) -> StudySet:
    return studyset(owner, factories.images(*CAPTIONS[:count]), title="Pneumothorax", visibility=visibility)


def test_a_script_with_a_token_creates_a_set_saves_an_image_and_lists_it(people):
    image = factories.images(CAPTIONS[0])[0]
    _, raw = api_token_create(user=people["owner"], name="script")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")

    created = api.post(
        "/api/studysets/", {"title": "  Chest   films ", "visibility": "unlisted"}, format="json"
    )
    set_id = created.json()["id"]
    saved = api.post(f"/api/studysets/{set_id}/items/", {"image": image.pk, "note": "Look at the apex."})
    mine = api.get("/api/studysets/")

    assert created.status_code == 201
    assert created.json()["title"] == "Chest films" and created.json()["is_owner"] is True
    assert created.json()["share_url"].endswith(
        f"/studysets/{set_id}/shared/{created.json()['share_token']}/"
    )
    assert saved.status_code == 201
    assert saved.json()["place"] == 1 and saved.json()["note"] == "Look at the apex."
    assert saved.json()["image"]["caption"] == CAPTIONS[0]
    assert [(s["title"], s["item_count"], s["owner"]) for s in mine.json()["results"]] == [
        ("Chest films", 1, people["owner"].username)
    ]


def test_each_user_lists_only_their_own_sets_and_anonymous_clients_get_401(people):
    a_set(people["owner"])
    assert api_as(people["student"]).get("/api/studysets/").json()["results"] == []
    assert_error(api_as(None).get("/api/studysets/"), 401, "not_authenticated")
    assert_error(api_as(None).post("/api/studysets/", {"title": "x"}), 401, "not_authenticated")


READABLE = {
    StudySet.PRIVATE: {"owner"},
    StudySet.UNLISTED: {"owner"},  # without the token
    StudySet.PUBLIC: set(ROLES),
}


@pytest.mark.parametrize("visibility", [StudySet.PRIVATE, StudySet.UNLISTED, StudySet.PUBLIC])
@pytest.mark.parametrize("role", ROLES)
def test_a_set_its_items_and_its_export_open_only_for_those_who_may_read_it(people, role, visibility):
    shared = a_set(people["owner"], visibility)
    api = api_as(people[role])

    responses = [api.get(f"/api/studysets/{shared.pk}/{suffix}") for suffix in ("", "items/", "export/")]

    if role in READABLE[visibility]:
        assert [r.status_code for r in responses] == [200, 200, 200]
        detail = responses[0].json()
        assert detail["title"] == "Pneumothorax" and len(detail["items"]) == 1
        assert detail["is_owner"] == (role == "owner")
        # Only the owner learns the link that opens the set.
        assert (detail["share_token"] is not None) == (role == "owner")
    else:
        for response in responses:
            assert_error(response, 404, "not_found")


@pytest.mark.parametrize("role", ROLES)
def test_anyone_with_the_token_reads_an_unlisted_set_and_a_wrong_token_reads_nothing(people, role):
    shared = a_set(people["owner"], StudySet.UNLISTED)
    api = api_as(people[role])

    good = api.get(f"/api/studysets/{shared.pk}/", {"token": shared.share_token})
    export = api.get(f"/api/studysets/{shared.pk}/export/", {"token": shared.share_token})
    bad = api.get(f"/api/studysets/{shared.pk}/", {"token": "x" + shared.share_token})

    assert good.status_code == 200 and good.json()["items"][0]["image"]["caption"] == CAPTIONS[0]
    assert export.status_code == 200
    assert bad.status_code == (200 if role == "owner" else 404)


def owner_requests(shared: StudySet) -> list[tuple[str, str, dict]]:
    item = shared.items.get()
    base = f"/api/studysets/{shared.pk}"
    return [
        ("patch", f"{base}/", {"title": "Hijacked"}),
        ("post", f"{base}/items/", {"image": item.image_id, "note": "mine now"}),
        ("patch", f"{base}/items/{item.pk}/", {"note": "mine now"}),
        ("post", f"{base}/items/{item.pk}/move/", {"direction": "up"}),
        ("post", f"{base}/renew-link/", {}),
        ("delete", f"{base}/items/{item.pk}/", {}),
        ("delete", f"{base}/", {}),
    ]


@pytest.mark.parametrize("visibility", [StudySet.PRIVATE, StudySet.PUBLIC])
@pytest.mark.parametrize("role", [*OTHERS, "anonymous"])
def test_only_the_owner_changes_a_set(people, role, visibility):
    shared = a_set(people["owner"], visibility)
    token = shared.share_token
    api = api_as(people[role])

    for method, url, data in owner_requests(shared):
        response = getattr(api, method)(url, data, format="json")
        if role == "anonymous":
            assert_error(response, 401, "not_authenticated")
        elif visibility == StudySet.PUBLIC:  # they may read it, so they learn it is not theirs
            assert_error(response, 403, "permission_denied")
        else:
            assert_error(response, 404, "not_found")

    shared.refresh_from_db()
    assert shared.title == "Pneumothorax" and shared.share_token == token
    assert shared.items.get().note == ""


def test_the_owner_changes_title_description_and_visibility_one_at_a_time(people):
    shared = a_set(people["owner"])
    api = api_as(people["owner"])

    api.patch(f"/api/studysets/{shared.pk}/", {"description": "For week 3."}, format="json")
    response = api.patch(f"/api/studysets/{shared.pk}/", {"visibility": "public"}, format="json")

    body = response.json()
    assert response.status_code == 200
    assert (body["title"], body["description"], body["visibility"]) == (
        "Pneumothorax",
        "For week 3.",
        "public",
    )


@pytest.mark.parametrize(
    "data, field",
    [({"title": "   "}, "title"), ({"title": "x" * 201}, "title"), ({"visibility": "secret"}, "visibility")],
)
def test_a_bad_change_is_a_400_with_a_json_error_and_changes_nothing(people, data, field):
    shared = a_set(people["owner"])
    response = api_as(people["owner"]).patch(f"/api/studysets/{shared.pk}/", data, format="json")

    error = assert_error(response, 400, "invalid")
    assert list(error["fields"]) == [field]
    shared.refresh_from_db()
    assert (shared.title, shared.visibility) == ("Pneumothorax", StudySet.PRIVATE)


def test_saving_an_image_again_keeps_its_place_and_a_new_note_replaces_the_old(people):
    shared = a_set(people["owner"], count=2)
    first = shared.items.order_by("position").first()
    api = api_as(people["owner"])

    again = api.post(f"/api/studysets/{shared.pk}/items/", {"image": first.image_id, "note": "Apex."})

    assert again.status_code == 200
    assert (again.json()["id"], again.json()["place"], again.json()["note"]) == (first.pk, 1, "Apex.")
    assert shared.items.count() == 2


def test_an_image_the_owner_cannot_see_or_a_full_set_cannot_be_saved(people, settings):
    shared = a_set(people["owner"])
    others = generated_by(people["student"], factories.images("Synthetic chest film.")[0])
    api = api_as(people["owner"])

    hidden = api.post(f"/api/studysets/{shared.pk}/items/", {"image": others.pk})
    missing = api.post(f"/api/studysets/{shared.pk}/items/", {"note": "no image"}, format="json")
    too_long = api.post(
        f"/api/studysets/{shared.pk}/items/", {"image": others.pk, "note": "x" * 2001}, format="json"
    )
    settings.MIRAGE_STUDYSET_MAX_ITEMS = 1
    full = api.post(f"/api/studysets/{shared.pk}/items/", {"image": factories.images("Knee MRI.")[0].pk})

    assert_error(hidden, 404, "not_found")
    assert list(assert_error(missing, 400, "invalid")["fields"]) == ["image"]
    assert list(assert_error(too_long, 400, "invalid")["fields"]) == ["note"]
    assert "start another set" in assert_error(full, 409, "conflict")["message"]
    assert shared.items.count() == 1


def places(api, shared) -> list[str]:
    items = api.get(f"/api/studysets/{shared.pk}/items/").json()["results"]
    assert [item["place"] for item in items] == list(range(1, len(items) + 1))
    return [item["image"]["caption"] for item in items]


def test_the_owner_reorders_items_by_moving_them_or_giving_a_place(people):
    shared = a_set(people["owner"], count=3)
    first, second, third = shared.items.order_by("position")
    api = api_as(people["owner"])

    down = api.post(f"/api/studysets/{shared.pk}/items/{first.pk}/move/", {"direction": "down"})
    assert down.status_code == 200 and down.json()["place"] == 2
    assert places(api, shared) == [CAPTIONS[1], CAPTIONS[0], CAPTIONS[2]]

    to_front = api.patch(f"/api/studysets/{shared.pk}/items/{third.pk}/", {"place": 1}, format="json")
    assert to_front.status_code == 200 and to_front.json()["place"] == 1
    assert places(api, shared) == [CAPTIONS[2], CAPTIONS[1], CAPTIONS[0]]

    at_top = api.post(f"/api/studysets/{shared.pk}/items/{third.pk}/move/", {"direction": "up"})
    assert at_top.json()["place"] == 1
    assert_error(
        api.post(f"/api/studysets/{shared.pk}/items/{third.pk}/move/", {"direction": "sideways"}),
        400,
        "invalid",
    )
    assert (
        "from 1 to 3"
        in assert_error(
            api.patch(f"/api/studysets/{shared.pk}/items/{third.pk}/", {"place": 4}, format="json"),
            400,
            "invalid",
        )["message"]
    )
    assert places(api, shared) == [CAPTIONS[2], CAPTIONS[1], CAPTIONS[0]]


def test_the_owner_edits_a_note_and_removes_an_item(people):
    shared = a_set(people["owner"], count=2)
    first, second = shared.items.order_by("position")
    api = api_as(people["owner"])

    noted = api.patch(
        f"/api/studysets/{shared.pk}/items/{second.pk}/", {"note": "  Gallstones. "}, format="json"
    )
    removed = api.delete(f"/api/studysets/{shared.pk}/items/{first.pk}/")

    assert noted.json()["note"] == "Gallstones." and noted.json()["place"] == 2
    assert removed.status_code == 204
    assert [
        (i["id"], i["place"], i["note"])
        for i in api.get(f"/api/studysets/{shared.pk}/items/").json()["results"]
    ] == [(second.pk, 1, "Gallstones.")]
    assert_error(api.delete(f"/api/studysets/{shared.pk}/items/{first.pk}/"), 404, "not_found")


def test_an_item_of_another_set_is_not_found_through_this_one(people):
    mine, other = a_set(people["owner"]), a_set(people["owner"])
    item = other.items.get()
    response = api_as(people["owner"]).patch(f"/api/studysets/{mine.pk}/items/{item.pk}/", {"note": "x"})
    assert_error(response, 404, "not_found")


def test_a_rejected_image_leaves_everyone_s_view_and_the_owner_is_told_how_many(people):
    shared = a_set(people["owner"], StudySet.PUBLIC, count=2)
    reject(shared.items.order_by("position").first().image)

    own = api_as(people["owner"]).get(f"/api/studysets/{shared.pk}/").json()
    seen = api_as(None).get(f"/api/studysets/{shared.pk}/").json()

    assert [i["image"]["caption"] for i in own["items"]] == [CAPTIONS[1]] and own["hidden_count"] == 1
    assert (seen["item_count"], seen["hidden_count"]) == (1, None)


@pytest.mark.parametrize("role", OTHERS)
def test_readers_copy_a_public_set_or_an_unlisted_one_with_its_token(people, role):
    public = a_set(people["owner"], StudySet.PUBLIC)
    unlisted = a_set(people["owner"], StudySet.UNLISTED)
    StudySet.objects.filter(pk=public.pk).update(title="Public chest films", share_notes=True)
    public.items.update(note="Apex first.")
    api = api_as(people[role])

    copied = api.post(f"/api/studysets/{public.pk}/copy/")
    refused = api.post(f"/api/studysets/{unlisted.pk}/copy/")
    with_token = api.post(f"/api/studysets/{unlisted.pk}/copy/", {"token": unlisted.share_token})

    assert copied.status_code == 201
    body = copied.json()
    assert (body["title"], body["visibility"], body["copied_from"]) == (
        "Public chest films (copy)",
        "private",
        public.pk,
    )
    assert body["owner"] == people[role].username and body["items"][0]["note"] == "Apex first."
    assert_error(refused, 404, "not_found")
    assert with_token.status_code == 201
    assert_error(api_as(None).post(f"/api/studysets/{public.pk}/copy/"), 401, "not_authenticated")


def test_a_renewed_link_replaces_the_old_one(people):
    shared = a_set(people["owner"], StudySet.UNLISTED)
    old = shared.share_token

    renewed = api_as(people["owner"]).post(f"/api/studysets/{shared.pk}/renew-link/")

    new = renewed.json()["share_token"]
    assert renewed.status_code == 200 and new != old
    reader = api_as(people["student"])
    assert_error(reader.get(f"/api/studysets/{shared.pk}/", {"token": old}), 404, "not_found")
    assert reader.get(f"/api/studysets/{shared.pk}/", {"token": new}).status_code == 200


def test_the_export_is_a_zip_with_images_and_a_csv_of_sources_and_notes(people):
    shared = a_set(people["owner"], StudySet.PUBLIC)
    StudySet.objects.filter(pk=shared.pk).update(share_notes=True)
    shared.items.update(note="Deep sulcus sign.")
    api = api_as(None)

    response = api.get(f"/api/studysets/{shared.pk}/export/", HTTP_ACCEPT="application/zip")

    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert f"pneumothorax-{shared.pk}.zip" in response["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    rows = list(csv.DictReader(io.StringIO(archive.read("images.csv").decode("utf-8-sig"))))
    assert [(r["caption"], r["note"]) for r in rows] == [(CAPTIONS[0], "Deep sulcus sign.")]
    assert rows[0]["file"] in archive.namelist()
    # An error stays JSON even for a client that asked for a ZIP.
    missing = api.get(f"/api/studysets/{shared.pk + 1000}/export/", HTTP_ACCEPT="application/zip")
    assert_error(missing, 404, "not_found")


def test_the_owner_deletes_a_set(people):
    shared = a_set(people["owner"])
    api = api_as(people["owner"])
    assert api.delete(f"/api/studysets/{shared.pk}/").status_code == 204
    assert_error(api.get(f"/api/studysets/{shared.pk}/"), 404, "not_found")
    assert not StudySet.objects.filter(pk=shared.pk).exists()


@pytest.mark.parametrize("role", ROLES)
def test_everyone_lists_and_searches_public_sets_by_title_a_page_at_a_time(people, role, settings):
    images = factories.images(CAPTIONS[0])
    for title in ("Chest films", "Head CT", "Chest CT"):
        studyset(people["owner"], images, title=title, visibility=StudySet.PUBLIC)
    studyset(people["owner"], images, title="Chest private", visibility=StudySet.PRIVATE)
    api = api_as(people[role])

    found = api.get("/api/studysets/public/", {"q": "chest"}).json()
    first = api.get("/api/studysets/public/", {"page_size": 2}).json()
    second = api.get(first["next"]).json()

    assert sorted(s["title"] for s in found["results"]) == ["Chest CT", "Chest films"]
    assert found["results"][0]["item_count"] == 1 and found["results"][0]["page_url"].startswith("http")
    assert (first["count"], len(first["results"]), first["previous"]) == (3, 2, None)
    assert [s["title"] for s in second["results"]] == ["Chest films"] and second["next"] is None
    assert_error(api.get("/api/studysets/public/", {"page": 3}), 404, "not_found")
    assert_error(api.get("/api/studysets/public/", {"q": "x" * 201}), 400, "invalid")
