"""Reads of study sets: the access helper, lists, and the items a viewer may see."""

from __future__ import annotations

import secrets

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, QuerySet
from django.http import Http404

from apps.corpus.selectors import images_visible_to
from apps.studysets.models import StudySet, StudySetItem

PUBLIC_PER_PAGE = 20  # public sets per page on the page (API lists page with apps.core.api.Pagination)
# A set's images per page: a page of 100 renders in about a fifth of the time 500 took (263 ms,
# 1 MB of HTML; bench/pages.py); the ZIP export and quizzes still take the whole set.
ITEMS_PER_PAGE = 100


def studyset_can_read(user, studyset: StudySet, *, token: str | None = None) -> bool:
    if user is not None and user.is_authenticated and studyset.owner_id == user.pk:
        return True
    if studyset.visibility == StudySet.PUBLIC:
        return True
    # An unlisted set opens only through its link; compared in constant time so it cannot be probed.
    return (
        studyset.visibility == StudySet.UNLISTED
        and token is not None
        and secrets.compare_digest(token.encode(), studyset.share_token.encode())
    )


def studyset_get_for_user(user, pk: int, *, write: bool = False, token: str | None = None) -> StudySet:
    """The access helper for one study set.

    Reading: the owner always; anyone for a public set; anyone holding the link of an unlisted set.
    Writing: the owner only. A set the user may not read is a 404 (its existence is not revealed);
    one they may read but not change is a 403.
    """
    studyset = StudySet.objects.select_related("owner").filter(pk=pk).first()
    if studyset is None or not studyset_can_read(user, studyset, token=token):
        raise Http404("No such study set.")
    if write and not (user.is_authenticated and studyset.owner_id == user.pk):
        raise PermissionDenied("Only the owner of this study set can change it.")
    return studyset


def studyset_notes_visible(*, studyset: StudySet, user) -> bool:
    """Whether this viewer may read the set's notes: its owner always, others only when shared.

    The one rule for notes: the page, the API, the export and a copy all ask it."""
    is_owner = user is not None and user.is_authenticated and studyset.owner_id == user.pk
    return is_owner or studyset.share_notes


def studyset_item_get_for_owner(user, pk: int, item_pk: int) -> StudySetItem:
    """The access helper for one item: the set's owner, and only an item whose image they can see."""
    studyset = studyset_get_for_user(user, pk, write=True)
    item = studyset_items_visible(studyset=studyset, user=user).filter(pk=item_pk).first()
    if item is None:
        raise Http404("No such item in this study set.")
    item.studyset = studyset  # already loaded, with its owner
    return item


def _counted(studysets: QuerySet[StudySet], *, viewer) -> QuerySet[StudySet]:
    visible = images_visible_to(viewer).values("pk")
    return studysets.annotate(item_count=Count("items", filter=Q(items__image__in=visible)))


def studysets_owned_by(*, user) -> QuerySet[StudySet]:
    """A user's own sets, newest change first, each with `item_count` (items they can see)."""
    return _counted(StudySet.objects.filter(owner=user), viewer=user).order_by("-updated_at", "-pk")


def studysets_public(*, viewer, query: str = "") -> QuerySet[StudySet]:
    """Public sets, optionally those whose title contains `query`, each with `item_count`."""
    studysets = StudySet.objects.filter(visibility=StudySet.PUBLIC).select_related("owner")
    query = " ".join(query.split())
    if query:
        studysets = studysets.filter(title__icontains=query)
    return _counted(studysets, viewer=viewer).order_by("-updated_at", "-pk")


def studyset_items_visible(*, studyset: StudySet, user) -> QuerySet[StudySetItem]:
    """The items whose image this viewer may see, in the set's order.

    Filtered at read time, so an image rejected by moderation after it was saved disappears from
    everyone's view of the set (its author's own generated images stay visible to them).
    """
    return (
        studyset.items.filter(image__in=images_visible_to(user).values("pk"))
        .select_related("image", "image__dataset")
        .order_by("position", "pk")
    )


def studyset_item_places(*, studyset: StudySet, user) -> dict[int, int]:
    """Item id → its place (1 = first) among the items this viewer sees."""
    ids = studyset_items_visible(studyset=studyset, user=user).values_list("pk", flat=True)
    return {pk: place for place, pk in enumerate(ids, start=1)}


def studyset_item_page(*, item: StudySetItem, user) -> int:
    """The page of the set (1 = first) on which this viewer sees the item."""
    place = studyset_item_places(studyset=item.studyset, user=user).get(item.pk, 1)
    return (place - 1) // ITEMS_PER_PAGE + 1


def studyset_hidden_count(*, studyset: StudySet, user) -> int:
    """How many items this viewer cannot see (images since rejected or still under review)."""
    return studyset.items.count() - studyset_items_visible(studyset=studyset, user=user).count()


def studyset_saved_in(*, user, image_ids: list[int] | None = None) -> dict[int, list[str]]:
    """Image id → titles of this user's sets that hold it (for "saved in …" on result cards)."""
    items = StudySetItem.objects.filter(studyset__owner=user)
    if image_ids is not None:
        items = items.filter(image_id__in=image_ids)
    saved: dict[int, list[str]] = {}
    for image_id, title in items.order_by("studyset__title").values_list("image_id", "studyset__title"):
        saved.setdefault(image_id, []).append(title)
    return saved
