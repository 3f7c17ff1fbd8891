"""Who may open and change a study set: owner, another student, an instructor, a moderator and an
anonymous visitor, for each visibility, through every page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.studysets.models import StudySet
from tests import factories
from tests.studysets.helpers import studyset

pytestmark = pytest.mark.django_db

ROLES = ["owner", "student", "instructor", "moderator", "anonymous"]
OTHERS = ["student", "instructor", "moderator"]


def as_(client, people, role):
    if people[role] is not None:
        client.force_login(people[role])
    return client


def a_set(people, visibility):
    (image,) = factories.images("Chest radiograph with a right pneumothorax.")
    return studyset(people["owner"], [image], title="Pneumothorax", visibility=visibility)


READABLE = {
    StudySet.PRIVATE: {"owner"},
    StudySet.UNLISTED: {"owner"},  # without the link
    StudySet.PUBLIC: set(ROLES),
}


@pytest.mark.parametrize("visibility", [StudySet.PRIVATE, StudySet.UNLISTED, StudySet.PUBLIC])
@pytest.mark.parametrize("role", ROLES)
def test_the_set_page_and_its_export_open_only_for_those_who_may_read_it(client, people, role, visibility):
    shared = a_set(people, visibility)
    as_(client, people, role)

    page = client.get(reverse("studysets:detail", args=[shared.pk]))
    export = client.get(reverse("studysets:export", args=[shared.pk]))

    expected = 200 if role in READABLE[visibility] else 404
    assert page.status_code == expected and export.status_code == expected
    if expected == 200:
        assert "Pneumothorax" in page.content.decode()


@pytest.mark.parametrize("role", ROLES)
def test_anyone_with_the_link_opens_an_unlisted_set_and_a_wrong_link_opens_nothing(client, people, role):
    shared = a_set(people, StudySet.UNLISTED)
    as_(client, people, role)

    good = client.get(reverse("studysets:shared", args=[shared.pk, shared.share_token]))
    bad = client.get(reverse("studysets:shared", args=[shared.pk, "wrong" + shared.share_token]))
    export = client.get(reverse("studysets:shared_export", args=[shared.pk, shared.share_token]))

    assert good.status_code == 200 and "Pneumothorax" in good.content.decode()
    assert export.status_code == 200
    assert bad.status_code == (200 if role == "owner" else 404)


@pytest.mark.parametrize("role", ROLES)
def test_a_private_set_through_another_sets_link_stays_closed(client, people, role):
    private = a_set(people, StudySet.PRIVATE)
    as_(client, people, role)
    response = client.get(reverse("studysets:shared", args=[private.pk, private.share_token]))
    assert response.status_code == (200 if role == "owner" else 404)


def write_requests(shared):
    item = shared.items.get()
    return [
        ("get", reverse("studysets:edit", args=[shared.pk]), {}),
        ("post", reverse("studysets:edit", args=[shared.pk]), {"title": "Hijacked", "visibility": "public"}),
        ("post", reverse("studysets:renew_link", args=[shared.pk]), {}),
        ("post", reverse("studysets:item_note", args=[shared.pk, item.pk]), {"note": "mine now"}),
        ("post", reverse("studysets:item_move", args=[shared.pk, item.pk]), {"direction": "up"}),
        ("post", reverse("studysets:item_remove", args=[shared.pk, item.pk]), {}),
        ("post", reverse("studysets:save_image"), {"image": item.image_id, "studyset": shared.pk}),
        ("get", reverse("studysets:delete", args=[shared.pk]), {}),
        ("post", reverse("studysets:delete", args=[shared.pk]), {}),
    ]


@pytest.mark.parametrize("visibility", [StudySet.PRIVATE, StudySet.PUBLIC])
@pytest.mark.parametrize("role", OTHERS)
def test_only_the_owner_changes_a_set_others_get_403_or_404(client, people, role, visibility):
    shared = a_set(people, visibility)
    as_(client, people, role)

    for method, url, data in write_requests(shared):
        response = getattr(client, method)(url, data)
        assert response.status_code == (403 if visibility == StudySet.PUBLIC else 404), url

    shared.refresh_from_db()
    assert shared.title == "Pneumothorax" and shared.items.get().note == ""


def test_an_anonymous_visitor_is_sent_to_log_in_for_every_change(client, people):
    shared = a_set(people, StudySet.PUBLIC)
    for method, url, data in write_requests(shared):
        response = getattr(client, method)(url, data)
        assert response.status_code == 302 and response.url.startswith(reverse("accounts:login")), url
    for url in (reverse("studysets:mine"), reverse("studysets:create")):
        assert client.get(url).url.startswith(reverse("accounts:login"))
    assert StudySet.objects.get().items.count() == 1


def test_the_owner_can_do_every_change(client, people):
    shared = a_set(people, StudySet.PRIVATE)
    client.force_login(people["owner"])
    for method, url, data in write_requests(shared):
        response = getattr(client, method)(url, data)
        assert response.status_code in (200, 302), url
    assert not StudySet.objects.filter(pk=shared.pk).exists()


@pytest.mark.parametrize("role", OTHERS)
def test_readers_of_a_public_set_may_copy_it_but_not_a_private_one(client, people, role):
    public, private = a_set(people, StudySet.PUBLIC), a_set(people, StudySet.PRIVATE)
    client.force_login(people[role])

    copied = client.post(reverse("studysets:copy", args=[public.pk]))
    refused = client.post(reverse("studysets:copy", args=[private.pk]))

    assert copied.status_code == 302
    assert StudySet.objects.get(owner=people[role]).title == "Pneumothorax (copy)"
    assert refused.status_code == 404


def test_an_unlisted_set_is_copied_with_its_link(client, people):
    shared = a_set(people, StudySet.UNLISTED)
    client.force_login(people["student"])
    assert client.post(reverse("studysets:copy", args=[shared.pk])).status_code == 404
    assert (
        client.post(reverse("studysets:copy", args=[shared.pk]), {"token": shared.share_token}).status_code
        == 302
    )
