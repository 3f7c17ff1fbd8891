"""Study-set services: what can be saved, in what order, copied and limited."""

from __future__ import annotations

import pytest
from django.http import Http404

from apps.corpus.models import Image
from apps.studysets.models import StudySet
from apps.studysets.selectors import studyset_hidden_count, studyset_items_visible
from apps.studysets.services import (
    FIRST_SET_TITLE,
    StudySetError,
    studyset_add_image,
    studyset_copy,
    studyset_create,
    studyset_for_save,
    studyset_item_move,
    studyset_update,
)
from tests import factories
from tests.studysets.helpers import generated_by, reject, studyset

pytestmark = pytest.mark.django_db


def captions(studyset_, user):
    return [item.image.caption for item in studyset_items_visible(studyset=studyset_, user=user)]


def test_saved_images_keep_the_order_they_were_added_in_with_their_notes():
    owner = factories.user()
    first, second = factories.images("Chest X-ray.", "Head CT.")
    saved = studyset(owner)
    studyset_add_image(studyset=saved, user=owner, image_id=first.pk, note="classic case")
    studyset_add_image(studyset=saved, user=owner, image_id=second.pk)

    items = list(studyset_items_visible(studyset=saved, user=owner))
    assert [i.image.caption for i in items] == ["Chest X-ray.", "Head CT."]
    assert items[0].note == "classic case"


def test_saving_an_image_twice_keeps_one_item_and_takes_the_new_note():
    owner = factories.user()
    (image,) = factories.images("Chest X-ray.")
    saved = studyset(owner, [image])

    item, created = studyset_add_image(studyset=saved, user=owner, image_id=image.pk, note="look at the apex")

    assert created is False and saved.items.count() == 1
    assert item.note == "look at the apex"


def test_rejected_images_and_other_users_pending_images_cannot_be_saved():
    owner, author = factories.user(), factories.user()
    rejected, pending = factories.images("Rejected picture.", "Someone else's generated picture.")
    reject(rejected)
    generated_by(author, pending)
    saved = studyset(owner)

    for image in (rejected, pending):
        with pytest.raises(Http404):
            studyset_add_image(studyset=saved, user=owner, image_id=image.pk)
    assert saved.items.count() == 0


def test_an_author_can_save_their_own_generated_image_while_it_awaits_review():
    author = factories.user()
    (image,) = factories.images("My synthetic chest X-ray.")
    generated_by(author, image)
    saved = studyset(author)

    _item, created = studyset_add_image(studyset=saved, user=author, image_id=image.pk)

    assert created and captions(saved, author) == ["My synthetic chest X-ray."]


def test_an_image_rejected_after_saving_disappears_from_everyones_view_of_the_set():
    owner, visitor = factories.user(), factories.user()
    kept, later_rejected = factories.images("Chest X-ray.", "Picture later rejected.")
    shared = studyset(owner, [kept, later_rejected], visibility=StudySet.PUBLIC)

    reject(later_rejected)

    assert captions(shared, visitor) == ["Chest X-ray."]
    assert captions(shared, owner) == ["Chest X-ray."]
    assert studyset_hidden_count(studyset=shared, user=owner) == 1


def test_moving_an_item_swaps_it_with_its_neighbour_and_stops_at_the_ends():
    owner = factories.user()
    images = factories.images("A first.", "B second.", "C third.")
    saved = studyset(owner, images)
    items = list(studyset_items_visible(studyset=saved, user=owner))

    studyset_item_move(item=items[2], user=owner, up=True)
    assert captions(saved, owner) == ["A first.", "C third.", "B second."]
    studyset_item_move(item=items[0], user=owner, up=True)  # already first
    studyset_item_move(item=items[1], user=owner, up=False)  # B is last now
    assert captions(saved, owner) == ["A first.", "C third.", "B second."]
    studyset_item_move(item=items[0], user=owner, up=False)
    assert captions(saved, owner) == ["C third.", "A first.", "B second."]


def test_moving_skips_over_items_hidden_from_the_owner():
    owner = factories.user()
    a, hidden, c = factories.images("A first.", "Hidden.", "C third.")
    saved = studyset(owner, [a, hidden, c])
    reject(hidden)
    item_c = saved.items.get(image=c)

    studyset_item_move(item=item_c, user=owner, up=True)

    assert captions(saved, owner) == ["C third.", "A first."]


def test_a_copy_is_private_to_its_new_owner_and_keeps_shared_notes_but_not_hidden_images():
    owner, student = factories.user(), factories.user()
    kept, rejected = factories.images("Chest X-ray.", "Rejected picture.")
    public = studyset(owner, [kept, rejected], title="Pneumothorax", visibility=StudySet.PUBLIC)
    StudySet.objects.filter(pk=public.pk).update(share_notes=True)
    public.refresh_from_db()
    public.items.filter(image=kept).update(note="see the pleural line")
    reject(rejected)

    copy = studyset_copy(studyset=public, owner=student)

    assert copy.owner == student and copy.visibility == StudySet.PRIVATE
    assert copy.title == "Pneumothorax (copy)" and copy.copied_from == public
    assert [(i.image_id, i.note) for i in copy.items.all()] == [(kept.pk, "see the pleural line")]


def test_a_one_click_save_without_any_set_starts_my_first_study_set():
    owner = factories.user()
    first = studyset_for_save(owner=owner)
    assert first.title == FIRST_SET_TITLE and first.owner == owner
    assert studyset_for_save(owner=owner, studyset_id=first.pk) == first
    with pytest.raises(StudySetError, match="Choose which"):
        studyset_for_save(owner=owner)


def test_a_save_with_a_new_title_starts_that_set_once():
    owner = factories.user()
    named = studyset_for_save(owner=owner, new_title="  Neuro   cases ")
    assert (named.title, named.owner) == ("Neuro cases", owner)
    assert studyset_for_save(owner=owner, studyset_id=None, new_title="Neuro cases") == named


def test_a_full_set_refuses_more_images_with_a_clear_message(settings):
    settings.MIRAGE_STUDYSET_MAX_ITEMS = 1
    owner = factories.user()
    first, second = factories.images("Chest X-ray.", "Head CT.")
    saved = studyset(owner, [first])

    with pytest.raises(StudySetError, match="already holds 1 images") as raised:
        studyset_add_image(studyset=saved, user=owner, image_id=second.pk)
    assert raised.value.status == 409


@pytest.mark.parametrize(
    ("title", "visibility", "message"),
    [
        ("   ", "private", "title"),
        ("x" * 201, "private", "limit is 200"),
        ("Fine", "secret", "private, unlisted"),
    ],
)
def test_bad_titles_and_visibilities_are_refused(title, visibility, message):
    owner = factories.user()
    with pytest.raises(StudySetError, match=message):
        studyset_create(owner=owner, title=title, visibility=visibility)
    saved = studyset(owner)
    with pytest.raises(StudySetError, match=message):
        studyset_update(studyset=saved, title=title, description="", visibility=visibility)


def test_visible_item_counts_leave_out_hidden_images():
    from apps.studysets.selectors import studysets_owned_by

    owner = factories.user()
    kept, rejected = factories.images("Chest X-ray.", "Rejected picture.")
    studyset(owner, [kept, rejected])
    reject(rejected)

    (listed,) = studysets_owned_by(user=owner)
    assert listed.item_count == 1
    assert Image.objects.count() == 2
