"""Reads of the corpus."""

from __future__ import annotations

from django.core.cache import cache
from django.db import connection
from django.db.models import Q, QuerySet
from django.http import Http404

from apps.corpus.models import Image

CORPUS_COUNTS_KEY = "corpus:counts"
# Counting the image table grows with the corpus, and every search page shows the counts: they are
# kept in the cache, refreshed after every import (`corpus_statistics_refresh`), and at most this old.
CORPUS_COUNTS_SECONDS = 600
COMMON_WORDS_KEY = "corpus:caption-word-counts"


def corpus_counts() -> dict[str, int]:
    """How many entries the corpus holds, and how many of them have an image file (cached)."""
    counts = cache.get(CORPUS_COUNTS_KEY)
    if counts is None:
        images = Image.objects.all()
        counts = {"entries": images.count(), "with_image": images.exclude(file="").count()}
        cache.set(CORPUS_COUNTS_KEY, counts, CORPUS_COUNTS_SECONDS)
    return counts


def caption_word_counts() -> dict[str, int]:
    """About how many captions hold each of the corpus's most common caption words (search lexemes):
    PostgreSQL's own statistics of the captions' search vectors (`ANALYZE`, run after every import
    by `corpus_statistics_refresh`), cached like the counts. Raw SQL: pg_stats has no model."""
    counts = cache.get(COMMON_WORDS_KEY)
    if counts is None:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT word, round(share * greatest(reltuples, 0)) FROM pg_stats, pg_class, "
                "unnest(most_common_elems::text::text[], most_common_elem_freqs) AS elems(word, share) "
                "WHERE pg_class.oid = %s::regclass AND schemaname = current_schema() AND tablename = %s "
                "AND attname = 'search_vector' AND word IS NOT NULL",
                [Image._meta.db_table, Image._meta.db_table],
            )
            counts = {word: int(count) for word, count in cursor.fetchall()}
        cache.set(COMMON_WORDS_KEY, counts, CORPUS_COUNTS_SECONDS)
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
