"""Small builders for study-set tests (the quiz tests use them too)."""

from __future__ import annotations

from apps.corpus.models import Image
from apps.studysets.models import StudySet
from apps.studysets.services import studyset_add_image, studyset_create


def studyset(
    owner, images=(), *, title: str = "Chest imaging", visibility: str = StudySet.PRIVATE
) -> StudySet:
    created = studyset_create(owner=owner, title=title, visibility=visibility)
    for image in images:
        studyset_add_image(studyset=created, user=owner, image_id=image.pk)
    return created


def generated_by(owner, image: Image, *, state: str = Image.PENDING) -> Image:
    """Turn a corpus row into a user's generated image in a moderation state."""
    Image.objects.filter(pk=image.pk).update(is_synthetic=True, owner=owner, moderation_state=state)
    image.refresh_from_db()
    return image


def reject(image: Image) -> Image:
    Image.objects.filter(pk=image.pk).update(
        moderation_state=Image.REJECTED, moderation_reason="Not medical."
    )
    image.refresh_from_db()
    return image
