"""Writes to study sets. Pages and the API call these; access is checked before, by
`studyset_get_for_user`, and image visibility here, by `images_visible_to`."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.http import Http404

from apps.core.errors import UserError
from apps.corpus.selectors import images_visible_to
from apps.studysets.models import StudySet, StudySetItem, new_share_token
from apps.studysets.selectors import studyset_get_for_user, studyset_items_visible, studyset_notes_visible

FIRST_SET_TITLE = "My first study set"
MAX_TITLE = 200
MAX_NOTE = 2000


class StudySetError(UserError):
    """Something the user must change; the message is shown as it is, with `status`."""


def _clean_title(title: str) -> str:
    title = " ".join((title or "").split())
    if not title:
        raise StudySetError("Give the study set a title.")
    if len(title) > MAX_TITLE:
        raise StudySetError(f"The title is {len(title)} characters long; the limit is {MAX_TITLE}.")
    return title


def _clean_note(note: str) -> str:
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise StudySetError(f"The note is {len(note)} characters long; the limit is {MAX_NOTE}.")
    return note


def _clean_visibility(visibility: str) -> str:
    if visibility not in dict(StudySet.VISIBILITIES):
        raise StudySetError("Choose private, unlisted or public.")
    return visibility


def studyset_create(
    *,
    owner,
    title: str,
    description: str = "",
    visibility: str = StudySet.PRIVATE,
    share_notes: bool = False,
) -> StudySet:
    return StudySet.objects.create(
        owner=owner,
        title=_clean_title(title),
        description=(description or "").strip(),
        visibility=_clean_visibility(visibility),
        share_notes=share_notes,
    )


def studyset_update(
    *,
    studyset: StudySet,
    title: str | None = None,
    description: str | None = None,
    visibility: str | None = None,
    share_notes: bool | None = None,
) -> StudySet:
    """Change what is given; None keeps the current value (the API's PATCH sends only some fields)."""
    studyset.title = _clean_title(studyset.title if title is None else title)
    studyset.description = (studyset.description if description is None else description).strip()
    studyset.visibility = _clean_visibility(studyset.visibility if visibility is None else visibility)
    studyset.share_notes = studyset.share_notes if share_notes is None else share_notes
    studyset.save(update_fields=["title", "description", "visibility", "share_notes", "updated_at"])
    return studyset


def studyset_renew_link(*, studyset: StudySet) -> StudySet:
    """A new unlisted link; the old one stops working."""
    studyset.share_token = new_share_token()
    studyset.save(update_fields=["share_token", "updated_at"])
    return studyset


def studyset_delete(*, studyset: StudySet) -> None:
    studyset.delete()


def studyset_for_save(*, owner, studyset_id: int | None = None, new_title: str = "") -> StudySet:
    """The set a save from a result card goes to.

    A new title names a set to save into: the owner's set of that title, else a new one. Otherwise the
    chosen set (the owner's only); with neither, a user without sets starts "My first study set".
    """
    if " ".join((new_title or "").split()):
        title = _clean_title(new_title)
        existing = StudySet.objects.filter(owner=owner, title=title).order_by("pk").first()
        return existing or studyset_create(owner=owner, title=title)
    if studyset_id is not None:
        return studyset_get_for_user(owner, studyset_id, write=True)
    if not StudySet.objects.filter(owner=owner).exists():
        return studyset_create(owner=owner, title=FIRST_SET_TITLE)
    raise StudySetError("Choose which of your study sets to save the image to, or name a new one.")


@transaction.atomic
def studyset_add_image(
    *, studyset: StudySet, user, image_id: int, note: str = ""
) -> tuple[StudySetItem, bool]:
    """Save an image the user may see into their set: (item, created).

    Saving an image that is already there keeps its place; a new non-empty note replaces the old one.
    """
    note = _clean_note(note)
    image = images_visible_to(user).filter(pk=image_id).first()
    if image is None:
        raise Http404("No such image.")
    locked = StudySet.objects.select_for_update().get(pk=studyset.pk)  # serializes positions per set
    item = locked.items.filter(image=image).first()
    if item is not None:
        if note and note != item.note:
            item.note = note
            item.save(update_fields=["note"])
        return item, False
    if locked.items.count() >= settings.MIRAGE_STUDYSET_MAX_ITEMS:
        raise StudySetError(
            f"“{locked.title}” already holds {settings.MIRAGE_STUDYSET_MAX_ITEMS} images, the most a set may "
            "hold; start another set.",
            status=409,
        )
    last = locked.items.aggregate(last=Max("position"))["last"]
    item = StudySetItem.objects.create(
        studyset=locked, image=image, note=note, position=0 if last is None else last + 1
    )
    locked.save(update_fields=["updated_at"])
    return item, True


def studyset_item_set_note(*, item: StudySetItem, note: str) -> StudySetItem:
    item.note = _clean_note(note)
    item.save(update_fields=["note"])
    return item


def _visible_order(*, item: StudySetItem, user) -> tuple[list[StudySetItem], int]:
    """The items this user sees, in order, with the set locked; and where `item` is among them."""
    StudySet.objects.select_for_update().get(pk=item.studyset_id)
    order = list(studyset_items_visible(studyset=item.studyset, user=user))
    index = next((i for i, other in enumerate(order) if other.pk == item.pk), None)
    if index is None:  # removed (or hidden) since it was looked up
        raise Http404("No such item in this study set.")
    return order, index


def _place(order: list[StudySetItem], index: int, target: int) -> None:
    """Move order[index] to order[target] and store the new order."""
    order.insert(target, order.pop(index))
    # Renumber the visible items in their new order, keeping the slots they used between them, so
    # items hidden from this user (rejected images) keep their own places.
    slots = sorted(other.position for other in order)
    if len(set(slots)) != len(slots):  # positions may tie after copies or races: spread them out
        slots = list(range(len(order)))
    for position, moved in zip(slots, order, strict=True):
        if moved.position != position:
            moved.position = position
            moved.save(update_fields=["position"])


@transaction.atomic
def studyset_item_move(*, item: StudySetItem, user, up: bool) -> None:
    """Swap the item with its neighbour among the items this user sees (no-op at either end)."""
    order, index = _visible_order(item=item, user=user)
    neighbour = index - 1 if up else index + 1
    if 0 <= neighbour < len(order):
        _place(order, index, neighbour)


@transaction.atomic
def studyset_item_move_to(*, item: StudySetItem, user, place: int) -> None:
    """Put the item at `place` (1 = first) among the items this user sees; the others close up."""
    order, index = _visible_order(item=item, user=user)
    if not 1 <= place <= len(order):
        raise StudySetError(f"Choose a place from 1 to {len(order)}.")
    _place(order, index, place - 1)


@transaction.atomic
def studyset_item_update(
    *, item: StudySetItem, user, note: str | None = None, place: int | None = None
) -> StudySetItem:
    """Change the note and/or the place (1 = first) of an item; None leaves that as it is."""
    if note is not None:
        studyset_item_set_note(item=item, note=note)
    if place is not None:
        studyset_item_move_to(item=item, user=user, place=place)
    return item


def studyset_item_remove(*, item: StudySetItem) -> None:
    item.delete()


@transaction.atomic
def studyset_copy(*, studyset: StudySet, owner) -> StudySet:
    """A private copy of a set the new owner may read, holding the items they can see, with the notes
    they may read (their own, or the ones the owner shared)."""
    copy = StudySet.objects.create(
        owner=owner,
        title=_clean_title(f"{studyset.title} (copy)"[:MAX_TITLE]),
        description=studyset.description,
        visibility=StudySet.PRIVATE,
        copied_from=studyset,
    )
    items = studyset_items_visible(studyset=studyset, user=owner)[: settings.MIRAGE_STUDYSET_MAX_ITEMS]
    with_notes = studyset_notes_visible(studyset=studyset, user=owner)
    StudySetItem.objects.bulk_create(
        StudySetItem(
            studyset=copy, image_id=item.image_id, note=item.note if with_notes else "", position=position
        )
        for position, item in enumerate(items)
    )
    return copy
