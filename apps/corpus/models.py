"""Corpus: datasets, images with their captions and licences, and their embeddings."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import models
from pgvector.django import VectorField

from apps.corpus.licences import LICENCES
from apps.corpus.modality import MODALITIES


class Dataset(models.Model):
    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    url = models.URLField(blank=True)

    def __str__(self) -> str:
        return self.name


class Image(models.Model):
    """One corpus entry: an image (or, until its file is found, only its metadata) and its caption."""

    dataset = models.ForeignKey(Dataset, on_delete=models.PROTECT, related_name="images")
    external_id = models.CharField(max_length=200)  # e.g. ROCO_00020
    split = models.CharField(max_length=20, blank=True)
    category = models.CharField(max_length=40, blank=True)

    file = models.FileField(upload_to="images/", max_length=300, blank=True)
    thumbnail = models.FileField(upload_to="thumbs/", max_length=300, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    format = models.CharField(max_length=10, blank=True)  # PNG / JPEG as stored
    sha256 = models.CharField(max_length=64, null=True, blank=True, unique=True)
    image_name = models.CharField(max_length=300, blank=True)  # file name the source lists

    caption = models.TextField()
    keywords = ArrayField(models.CharField(max_length=200), default=list, blank=True)
    cuis = ArrayField(models.CharField(max_length=20), default=list, blank=True)
    semtypes = models.JSONField(default=list, blank=True)  # [[code, name], ...]
    modality = models.CharField(max_length=20, choices=list(MODALITIES.items()), default="other")

    licence_raw = models.CharField(max_length=200, blank=True)
    licence = models.CharField(max_length=20, choices=list(LICENCES.items()), default="none")
    attribution = models.TextField(blank=True)
    pmc_id = models.CharField(max_length=20, blank=True)
    article_url = models.URLField(max_length=500, blank=True)
    source_url = models.URLField(max_length=500, blank=True)

    # Generated images belong to their author and stay private until a moderator approves them.
    # Imported images are approved from the start; a report can send any image back to review.
    APPROVED = "approved"
    PENDING = "pending"
    REJECTED = "rejected"
    MODERATION_STATES = [(APPROVED, "approved"), (PENDING, "pending review"), (REJECTED, "rejected")]

    is_synthetic = models.BooleanField(default=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="images"
    )
    moderation_state = models.CharField(max_length=10, choices=MODERATION_STATES, default=APPROVED)
    moderation_reason = models.TextField(blank=True)  # shown to the author when rejected

    search_vector = models.GeneratedField(
        expression=SearchVector("caption", config="english"),
        output_field=SearchVectorField(),
        db_persist=True,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["dataset", "external_id"], name="image_unique_per_dataset"),
        ]
        indexes = [
            GinIndex(fields=["search_vector"], name="image_search_vector_gin"),
            # Each filter with the primary key: a filtered list (search filters, the admin's
            # newest-first list) reads its page from the index instead of sorting the matches.
            models.Index(fields=["modality", "id"], name="image_modality_idx"),
            models.Index(fields=["licence", "id"], name="image_licence_idx"),
            models.Index(fields=["moderation_state", "id"], name="image_moderation_idx"),
            models.Index(fields=["is_synthetic", "id"], name="image_synthetic_idx"),
            models.Index(fields=["dataset", "id"], name="image_dataset_idx"),
        ]

    def __str__(self) -> str:
        return self.external_id


class EmbeddingSpace(models.Model):
    """A model plus what it embeds (the image pixels or the caption text)."""

    IMAGE = "image"
    CAPTION = "caption"

    name = models.SlugField(max_length=64, unique=True)  # "clip", "caption"
    model = models.CharField(max_length=500)
    target = models.CharField(max_length=10, choices=[(IMAGE, "image"), (CAPTION, "caption")])
    dim = models.PositiveIntegerField()
    indexed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.model}, {self.target}, {self.dim}-d)"

    @property
    def index_name(self) -> str:
        return f"corpus_embedding_hnsw_{self.pk}"


class Embedding(models.Model):
    """One vector per (image, space). Dimensions differ per space; each space has its own partial index."""

    image = models.ForeignKey(Image, on_delete=models.CASCADE, related_name="embeddings")
    space = models.ForeignKey(EmbeddingSpace, on_delete=models.CASCADE, related_name="embeddings")
    vector = VectorField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["space", "image"], name="embedding_unique_per_space"),
        ]

    def __str__(self) -> str:
        return f"{self.image_id} in space {self.space_id}"


class ImportProgress(models.Model):
    """Where an unfinished import of a sharded dataset (parquet on the hub) stands: the next row to read.

    Written in the same transaction as each batch of rows, so it never claims rows that were not
    committed; deleted when the import finishes. A run with other options (fingerprint) starts over.
    """

    source = models.CharField(max_length=500)  # "hub:org/name" or "folder:/absolute/path"
    split = models.CharField(max_length=20)
    fingerprint = models.CharField(max_length=64)  # the shard list and the options that shape the rows
    shard = models.CharField(max_length=300)  # file name of the shard to resume in
    next_row = models.PositiveBigIntegerField(default=0)  # rows of that shard already done
    rows_done = models.PositiveBigIntegerField(default=0)  # rows of the split already done, all shards
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "split"], name="import_progress_unique_per_split"),
        ]

    def __str__(self) -> str:
        return f"{self.source} {self.split}: {self.shard} row {self.next_row}"
