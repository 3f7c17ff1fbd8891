"""Reads of the corpus."""

from __future__ import annotations

from django.http import Http404

from apps.corpus.models import Image


def image_get(*, pk: int) -> Image:
    """One image with its dataset, or 404."""
    image = Image.objects.select_related("dataset").filter(pk=pk).first()
    if image is None:
        raise Http404("No such image.")
    return image


def corpus_counts() -> dict[str, int]:
    images = Image.objects.all()
    return {"entries": images.count(), "with_image": images.exclude(file="").count()}
