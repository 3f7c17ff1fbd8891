"""Stored files: approved images are public; a pending or rejected image's files only for whom may see it."""

from __future__ import annotations

import pytest

from apps.corpus.models import Image
from tests import factories

pytestmark = pytest.mark.django_db


def test_pending_image_files_are_served_only_to_their_author_and_moderators(client):
    author, moderator = factories.user(), factories.user(role="moderator")
    public, pending = factories.images("Approved chest radiograph.", "Generated chest radiograph.")
    Image.objects.filter(pk=pending.pk).update(
        is_synthetic=True, owner=author, moderation_state=Image.PENDING
    )

    assert client.get(public.file.url).status_code == 200
    assert client.get(pending.file.url).status_code == 404
    assert client.get(pending.thumbnail.url).status_code == 404
    client.force_login(factories.user())
    assert client.get(pending.file.url).status_code == 404
    for viewer in (author, moderator):
        client.force_login(viewer)
        assert client.get(pending.file.url).status_code == 200
        assert client.get(pending.thumbnail.url).status_code == 200


@pytest.mark.parametrize("spelling", ["{dir}//{name}", "{dir}/./{name}", "./{dir}/{name}"])
def test_another_spelling_of_a_pending_files_path_is_refused_too(client, spelling):
    author = factories.user()
    (pending,) = factories.images("Generated chest radiograph.")
    Image.objects.filter(pk=pending.pk).update(
        is_synthetic=True, owner=author, moderation_state=Image.PENDING
    )
    folder, name = pending.file.name.rsplit("/", 1)

    assert client.get("/media/" + spelling.format(dir=folder, name=name)).status_code == 404
