"""Reads of the corpus."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404

from apps.corpus.models import Image


def corpus_counts() -> dict[str, int]:
    images = Image.objects.all()
    return {"entries": images.count(), "with_image": images.exclude(file="").count()}


SAMPLES_SLUG = "samples"  # the dataset load_samples fills


def only_samples_loaded() -> bool:
    """True when the corpus holds nothing but the bundled sample images (a fresh install)."""
    return not Image.objects.exclude(dataset__slug=SAMPLES_SLUG).filter(is_synthetic=False).exists()


REAL_CORPUS_COMMANDS = (
    "manage.py models pull clip",
    "manage.py import_hf mdwiratathya/ROCO-radiology --split validation --metadata PATH/TO/ROCO",
    "manage.py embed",
    "manage.py evaluate_retrieval --split validation --space clip",
)


def images_visible_to(user) -> QuerySet[Image]:
    """Images a user may see: every approved image, plus their own (generated) ones in any state.

    Moderators may open any image (to review it), but see only this same set in search.
    """
    if user is not None and user.is_authenticated:
        return Image.objects.filter(Q(moderation_state=Image.APPROVED) | Q(owner=user))
    return Image.objects.filter(moderation_state=Image.APPROVED)


def image_get_for_user(user, pk: int) -> Image:
    """The access helper for one image: 404 for an image this user may not see."""
    images = Image.objects.all() if getattr(user, "is_moderator", False) else images_visible_to(user)
    image = images.select_related("dataset", "owner").filter(pk=pk).first()
    if image is None:
        raise Http404("No such image.")
    return image
