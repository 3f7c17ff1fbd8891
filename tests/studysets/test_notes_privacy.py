"""Notes are their author's until they share them: the set's page, the API, the export and a copy
show someone else's notes only when the owner ticked "share my notes"."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest
from django.urls import reverse

from apps.studysets.models import StudySet
from apps.studysets.services import studyset_copy, studyset_item_set_note
from tests import factories
from tests.factories import api_as
from tests.studysets.helpers import studyset

pytestmark = pytest.mark.django_db

NOTE = "My own reminder: compare with last week's film."
VIEWERS = ["owner", "student", "anonymous"]


def a_shared_set(owner, *, visibility: str = StudySet.PUBLIC, share_notes: bool = False) -> StudySet:
    shared = studyset(
        owner, factories.images("Chest radiograph with a right pneumothorax."), visibility=visibility
    )
    studyset_item_set_note(item=shared.items.get(), note=NOTE)
    if share_notes:
        StudySet.objects.filter(pk=shared.pk).update(share_notes=True)
        shared.refresh_from_db()
    return shared


def exported_notes(response) -> list[str]:
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    rows = csv.DictReader(io.StringIO(archive.read("images.csv").decode("utf-8-sig")))
    return [row["note"] for row in rows]


def test_a_new_set_keeps_its_notes_private():
    assert studyset(factories.user()).share_notes is False


@pytest.mark.parametrize("visibility", [StudySet.PUBLIC, StudySet.UNLISTED])
@pytest.mark.parametrize("viewer", VIEWERS)
def test_only_the_owner_reads_private_notes_on_the_page_in_the_api_and_in_the_export(
    client, people, viewer, visibility
):
    shared = a_shared_set(people["owner"], visibility=visibility)
    token = {"token": shared.share_token} if visibility == StudySet.UNLISTED else {}
    if people[viewer] is not None:
        client.force_login(people[viewer])
    page_url = (
        reverse("studysets:shared", args=[shared.pk, shared.share_token])
        if token
        else reverse("studysets:detail", args=[shared.pk])
    )
    export_url = (
        reverse("studysets:shared_export", args=[shared.pk, shared.share_token])
        if token
        else reverse("studysets:export", args=[shared.pk])
    )
    api = api_as(people[viewer])

    page = client.get(page_url).content.decode()
    detail = api.get(f"/api/studysets/{shared.pk}/", token).json()
    items = api.get(f"/api/studysets/{shared.pk}/items/", token).json()
    notes = exported_notes(client.get(export_url))

    owner = viewer == "owner"
    assert (NOTE.replace("'", "&#x27;") in page) is owner
    assert detail["items"][0]["note"] == (NOTE if owner else None)
    assert items["results"][0]["note"] == (NOTE if owner else None)
    assert notes == [NOTE if owner else ""]


@pytest.mark.parametrize("viewer", VIEWERS)
def test_shared_notes_are_read_by_everyone_who_opens_the_set(client, people, viewer):
    shared = a_shared_set(people["owner"], share_notes=True)
    if people[viewer] is not None:
        client.force_login(people[viewer])

    page = client.get(reverse("studysets:detail", args=[shared.pk])).content.decode()
    detail = api_as(people[viewer]).get(f"/api/studysets/{shared.pk}/").json()
    notes = exported_notes(client.get(reverse("studysets:export", args=[shared.pk])))

    assert NOTE.replace("'", "&#x27;") in page
    assert detail["share_notes"] is True and detail["items"][0]["note"] == NOTE
    assert notes == [NOTE]


def test_a_copy_takes_the_notes_only_when_the_owner_shared_them(people):
    private_notes = a_shared_set(people["owner"])
    shared_notes = a_shared_set(people["owner"], share_notes=True)

    assert studyset_copy(studyset=private_notes, owner=people["student"]).items.get().note == ""
    assert studyset_copy(studyset=shared_notes, owner=people["student"]).items.get().note == NOTE
    assert studyset_copy(studyset=private_notes, owner=people["owner"]).items.get().note == NOTE


def test_making_a_set_public_asks_whether_to_share_its_notes_and_the_owner_is_told(client, people):
    shared = a_shared_set(people["owner"], visibility=StudySet.PRIVATE)
    client.force_login(people["owner"])
    edit = reverse("studysets:edit", args=[shared.pk])

    form = client.get(edit).content.decode()
    assert 'name="share_notes"' in form and "Share my notes with everyone who can open this set" in form

    client.post(edit, {"title": shared.title, "description": "", "visibility": StudySet.PUBLIC})
    shared.refresh_from_db()
    assert (shared.visibility, shared.share_notes) == (StudySet.PUBLIC, False)
    told = client.get(reverse("studysets:detail", args=[shared.pk])).content.decode()
    assert "Your notes are private" in told

    client.post(
        edit, {"title": shared.title, "description": "", "visibility": StudySet.PUBLIC, "share_notes": "on"}
    )
    shared.refresh_from_db()
    assert shared.share_notes is True


def test_the_api_shares_notes_when_the_owner_says_so(people):
    shared = a_shared_set(people["owner"])

    changed = api_as(people["owner"]).patch(
        f"/api/studysets/{shared.pk}/", {"share_notes": True}, format="json"
    )

    assert changed.status_code == 200 and changed.json()["share_notes"] is True
    assert api_as(None).get(f"/api/studysets/{shared.pk}/").json()["items"][0]["note"] == NOTE
