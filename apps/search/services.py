"""Writes for search: relevance ratings."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied

from apps.corpus.selectors import image_get_for_user
from apps.search.models import RelevanceRating
from apps.search.params import QueryError, clean_query


def normalise_query(text: str) -> str:
    """The form a rated query is stored and matched in: cleaned (`clean_query`), lower case."""
    return clean_query(text).lower()


def clean_grade(value: object) -> int:
    try:
        grade = int(value)
    except (TypeError, ValueError):
        grade = -1
    if grade not in dict(RelevanceRating.GRADES):
        raise QueryError("The grade must be 0 (not relevant), 1 (partly) or 2 (relevant).", field="grade")
    return grade


def may_rate(user) -> bool:
    return bool(getattr(user, "is_instructor", False) or getattr(user, "is_staff", False))


def relevance_rate(*, rater, query: str, image_id: int, grade: object) -> RelevanceRating:
    """Record (or change) `rater`'s grade of an image for a query; instructors and staff only."""
    if not may_rate(rater):
        raise PermissionDenied("Only instructors can rate the relevance of results.")
    image = image_get_for_user(rater, image_id)
    rating, _ = RelevanceRating.objects.update_or_create(
        query=normalise_query(query), image=image, rater=rater, defaults={"grade": clean_grade(grade)}
    )
    return rating
