"""Reads of the corpus."""

from __future__ import annotations

from django.core.cache import cache
from django.db.models import Q, QuerySet
from django.http import Http404

from apps.corpus.models import Image

CORPUS_COUNTS_KEY = "corpus:counts"
# Counting the image table grows with the corpus, and every search page shows the counts: they are
# kept in the cache, forgotten by every import batch (`corpus_counts_forget`), and at most this old.
CORPUS_COUNTS_SECONDS = 600


def corpus_counts() -> dict[str, int]:
    """How many entries the corpus holds, and how many of them have an image file (cached)."""
    counts = cache.get(CORPUS_COUNTS_KEY)
    if counts is None:
        images = Image.objects.all()
        counts = {"entries": images.count(), "with_image": images.exclude(file="").count()}
        cache.set(CORPUS_COUNTS_KEY, counts, CORPUS_COUNTS_SECONDS)
    return counts


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
