"""Readers flag a description (wrong, unsupported by its captions, unsafe); moderators see the flags
in their queue and resolve them, the flag keeping who, when and why. On pages and in the API."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.generation.models import Description, Job
from apps.moderation.models import DescriptionFlag
from tests import factories
from tests.factories import api_as, assert_error

pytestmark = pytest.mark.django_db


def described_for(owner) -> tuple[Description, Job]:
    (image,) = factories.images("Chest radiograph with a right pneumothorax.")
    description = Description.objects.create(
        query="pleural effusion chest x-ray",
        model="local:smollm2",
        model_label="SmolLM2-135M-Instruct",
        k=1,
        captions_key="x" * 64,
        sources=[{"n": 1, "image_id": image.pk, "caption": image.caption}],
        prompt="…",
        answer="Multiple rounded opacities and a right pneumothorax.",
    )
    job = Job.objects.create(
        kind=Job.DESCRIBE,
        owner=owner,
        params={},
        status=Job.SUCCEEDED,
        result={"descriptions": [description.pk]},
    )
    return description, job


def test_a_reader_flags_a_description_from_its_page_and_a_moderator_resolves_it(client):
    reader, moderator = factories.user(), factories.user(role="moderator")
    description, job = described_for(reader)
    job_page = reverse("generation:job", args=[job.pk])
    client.force_login(reader)

    page = client.get(job_page).content.decode()
    assert "Flag this description" in page
    assert reverse("moderation:flag_description", args=[description.pk]) in page

    sent = client.post(
        reverse("moderation:flag_description", args=[description.pk]),
        {"kind": "unsupported", "comment": "The captions are about a pneumothorax.", "next": job_page},
    )
    assert sent.status_code == 302 and sent.url == job_page
    flag = DescriptionFlag.objects.get()
    assert (flag.flagger, flag.kind, flag.resolved_at) == (reader, "unsupported", None)

    client.force_login(moderator)
    queue = client.get(reverse("moderation:queue")).content.decode()
    assert "Flagged descriptions" in queue and "The captions are about a pneumothorax." in queue
    client.post(
        reverse("moderation:resolve_flag", args=[flag.pk]), {"resolution": "upheld", "note": "Off topic."}
    )

    flag.refresh_from_db()
    assert (flag.resolution, flag.resolution_note, flag.resolver_name) == (
        "upheld",
        "Off topic.",
        moderator.username,
    )
    assert flag.resolved_at is not None
    assert (
        "The captions are about a pneumothorax."
        not in client.get(reverse("moderation:queue")).content.decode()
    )


def test_only_someone_shown_the_description_may_flag_it_and_only_moderators_resolve(client):
    reader, stranger = factories.user(), factories.user()
    description, _job = described_for(reader)
    flag_url = reverse("moderation:flag_description", args=[description.pk])

    client.force_login(stranger)
    assert client.post(flag_url, {"kind": "wrong"}).status_code == 404
    client.logout()
    assert client.post(flag_url, {"kind": "wrong"}).status_code == 302  # to the log-in page
    assert DescriptionFlag.objects.count() == 0

    client.force_login(reader)
    client.post(flag_url, {"kind": "wrong"})
    flag = DescriptionFlag.objects.get()
    assert (
        client.post(
            reverse("moderation:resolve_flag", args=[flag.pk]), {"resolution": "dismissed"}
        ).status_code
        == 403
    )
    flag.refresh_from_db()
    assert flag.resolved_at is None


def test_the_api_flags_lists_and_resolves(people):
    description, _job = described_for(people.owner)
    reader = api_as(people.owner)

    created = reader.post(f"/api/descriptions/{description.pk}/flags/", {"kind": "unsafe"}, format="json")
    again = reader.post(f"/api/descriptions/{description.pk}/flags/", {"kind": "unsafe"}, format="json")
    bad = reader.post(f"/api/descriptions/{description.pk}/flags/", {"kind": "boring"}, format="json")

    assert created.status_code == 201 and created.json()["kind"] == "unsafe"
    assert again.status_code == 409 and "already flagged" in again.json()["error"]["message"]
    assert bad.status_code == 400
    assert_error(
        api_as(people.student).post(f"/api/descriptions/{description.pk}/flags/", {"kind": "wrong"}),
        404,
        "not_found",
    )
    assert (
        api_as(None).post(f"/api/descriptions/{description.pk}/flags/", {"kind": "wrong"}).status_code == 401
    )

    listed = api_as(people.moderator).get("/api/moderation/description-flags/").json()
    assert [f["id"] for f in listed["results"]] == [created.json()["id"]]
    assert api_as(people.student).get("/api/moderation/description-flags/").status_code == 403

    flag_id = created.json()["id"]
    resolved = api_as(people.moderator).post(
        f"/api/moderation/description-flags/{flag_id}/resolve/", {"resolution": "dismissed"}, format="json"
    )
    assert resolved.status_code == 200 and resolved.json()["resolution"] == "dismissed"
    assert resolved.json()["resolver_name"] == people.moderator.username
    twice = api_as(people.moderator).post(
        f"/api/moderation/description-flags/{flag_id}/resolve/", {"resolution": "upheld"}, format="json"
    )
    assert twice.status_code == 409
