"""Embedding the corpus: vectors per (image, space), bulk-loaded with COPY, then an HNSW index."""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.contrib.postgres.indexes import OpClass
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.db.models.functions import Cast
from django.utils import timezone
from pgvector import Vector
from pgvector.django import HalfVectorField, HnswIndex
from pgvector.psycopg import register_vector

from apps.corpus import imaging
from apps.corpus.models import Embedding, EmbeddingSpace, Image
from apps.corpus.spaces import SpaceConfig
from apps.ml.encoders import Encoder, load_encoder

logger = logging.getLogger(__name__)


class SpaceModelMismatch(Exception):
    """The stored space was built with another model than the one configured now."""


@dataclass
class EmbedSummary:
    space: str
    embedded: int = 0
    failed: int = 0
    index_built: bool = False


def space_for(config: SpaceConfig, encoder: Encoder) -> EmbeddingSpace:
    space, created = EmbeddingSpace.objects.get_or_create(
        name=config.name, defaults={"model": config.model, "target": config.target, "dim": encoder.dim}
    )
    if not created and (space.model != config.model or space.dim != encoder.dim):
        raise SpaceModelMismatch(
            f"The {config.name!r} space holds {space.dim}-d vectors from {space.model}, but the "
            f"configured model is {config.model} ({encoder.dim}-d). "
            f"Run `manage.py embed --space {config.name} --rebuild`."
        )
    return space


def images_missing(space: EmbeddingSpace):
    """Images that should have a vector in this space and do not yet."""
    missing = Image.objects.exclude(Exists(Embedding.objects.filter(space=space, image=OuterRef("pk"))))
    if space.target == EmbeddingSpace.IMAGE:
        missing = missing.exclude(file="")
    return missing.order_by("pk")


def lacking_vectors(config: SpaceConfig) -> QuerySet[Image]:
    """Entries that should have a vector in a configured space and lack one: all that qualify, before
    the space is first embedded. No model is loaded."""
    space = EmbeddingSpace.objects.filter(name=config.name).first()
    if space is not None:
        return images_missing(space)
    entries = Image.objects.all()
    if config.target == EmbeddingSpace.IMAGE:
        entries = entries.exclude(file="")
    return entries.order_by("pk")


@dataclass
class EmbedEstimate:
    space: str
    todo: int  # entries lacking a vector
    device: str
    seconds_per_item: float | None = None  # measured here, on CPU only (a GPU is fast enough not to ask)

    @property
    def seconds(self) -> float | None:
        return None if self.seconds_per_item is None else self.seconds_per_item * self.todo


def embed_estimate(*, config: SpaceConfig, sample: int = 2) -> EmbedEstimate:
    """How much there is to embed and, on CPU, how long it will take: `sample` entries (images) or
    16 × `sample` (captions) are encoded and timed here, after one warm-up item."""
    encoder = load_encoder(config.model)
    todo = lacking_vectors(config)
    estimate = EmbedEstimate(space=config.name, todo=todo.count(), device=encoder.device)
    if estimate.todo == 0 or not encoder.device.startswith("cpu"):
        return estimate
    if config.target == EmbeddingSpace.CAPTION:
        texts = list(todo.values_list("caption", flat=True)[: 16 * sample + 1])
        encoder.encode_texts(texts[:1])
        started = time.perf_counter()
        encoder.encode_texts(texts[1:] or texts)
        estimate.seconds_per_item = (time.perf_counter() - started) / max(len(texts) - 1, 1)
        return estimate
    pictures = []
    for image in todo[: sample + 1]:
        try:
            with image.file.open("rb") as handle:
                pictures.append(imaging.open_image_bytes(handle.read()))
        except (imaging.ImageError, OSError):
            continue
    if pictures:
        encoder.encode_images(pictures[:1])
        timed = pictures[1:] or pictures
        started = time.perf_counter()
        encoder.encode_images(timed)
        estimate.seconds_per_item = (time.perf_counter() - started) / len(timed)
    return estimate


def device_batch_size(device: str) -> int:
    """Images per batch: large on a GPU (by its memory; halved on running out), small on CPU."""
    import torch

    if not device.startswith("cuda"):
        return 8
    total_gib = torch.cuda.get_device_properties(torch.device(device)).total_memory / 2**30
    return int(max(16, min(512, 2 ** int(math.log2(max(total_gib * 4, 1))))))


def embed_space(
    *,
    config: SpaceConfig,
    batch_size: int | None = None,
    rebuild: bool = False,
    loader_workers: int | None = None,
    on_start: Callable[[int], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> EmbedSummary:
    """Embed every entry lacking a vector in the space, batch by batch (each batch committed, so an
    interrupted run resumes where it stopped), then build the space's index.

    Images are read, decoded and run through the model's preprocessing by `loader_workers` processes
    (a torch DataLoader; default: the cores but one, at most 8) while the model (fp16 on a GPU) encodes
    the previous batch. `batch_size` defaults to what the device holds. `on_start(total)` and
    `on_progress(done)` report progress; this is what a bulk-embedding job calls.
    """
    encoder = load_encoder(config.model)
    if rebuild:
        space_drop(name=config.name)
    space = space_for(config, encoder)
    summary = EmbedSummary(space=space.name)
    todo = images_missing(space)
    if on_start:
        on_start(todo.count())
    if space.target == EmbeddingSpace.CAPTION:
        _embed_captions(space, encoder, todo, batch_size or 256, summary, on_progress)
    else:
        batch_size = batch_size or device_batch_size(encoder.device)
        _embed_images(space, encoder, todo, batch_size, loader_workers, summary, on_progress)
    summary.index_built = ensure_index(space)
    return summary


def _embed_captions(space, encoder, todo, batch_size, summary, on_progress) -> None:
    last_pk = 0
    while batch := list(todo.filter(pk__gt=last_pk).values_list("pk", "caption")[:batch_size]):
        last_pk = batch[-1][0]
        _copy_vectors(space, [pk for pk, _ in batch], encoder.encode_texts([text for _, text in batch]))
        summary.embedded += len(batch)
        if on_progress:
            on_progress(len(batch))


class _StoredPictures:
    """(pk, pixel tensor or None) for stored image files; runs in DataLoader worker processes, which
    read the files through the storage API and never touch the database."""

    def __init__(self, items: list[tuple[int, str]], transform) -> None:
        self.items, self.transform = items, transform

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int):
        pk, name = self.items[index]
        try:
            with default_storage.open(name, "rb") as handle:
                return pk, self.transform(imaging.open_image_bytes(handle.read(), name=name)), ""
        except (imaging.ImageError, OSError) as exc:
            return pk, None, str(exc)


def _collate(rows):
    import torch

    good = [(pk, pixels) for pk, pixels, _ in rows if pixels is not None]
    failed = [(pk, error) for pk, pixels, error in rows if pixels is None]
    pixels = torch.stack([p for _, p in good]) if good else None
    return [pk for pk, _ in good], pixels, failed


def _embed_images(space, encoder, todo, batch_size, loader_workers, summary, on_progress) -> None:
    import torch
    from torch.utils.data import DataLoader

    items = list(todo.values_list("pk", "file"))
    workers = loader_workers if loader_workers is not None else min(8, max(1, (os.cpu_count() or 2) - 1))
    loader = DataLoader(
        _StoredPictures(items, encoder.image_transform()),
        batch_size=batch_size,
        num_workers=workers,
        collate_fn=_collate,
        pin_memory=encoder.device.startswith("cuda"),
        # Forked workers inherit the open database connection; they never use it.
        multiprocessing_context="fork" if workers else None,
        prefetch_factor=2 if workers else None,
    )
    for ids, pixels, failed in loader:
        for pk, error in failed:
            summary.failed += 1
            logger.warning("cannot embed image %s: %s", pk, error)
        if ids:
            _copy_vectors(space, ids, _encode_pixels(encoder, pixels, torch))
            summary.embedded += len(ids)
        if on_progress:
            on_progress(len(ids) + len(failed))


def _encode_pixels(encoder, pixels, torch) -> np.ndarray:
    """Encode a batch; on running out of GPU memory, in halves (and so on down)."""
    try:
        return encoder.encode_pixels(pixels)
    except torch.OutOfMemoryError:
        if len(pixels) == 1:
            raise
        torch.cuda.empty_cache()
        half = len(pixels) // 2
        return np.concatenate(
            [_encode_pixels(encoder, pixels[:half], torch), _encode_pixels(encoder, pixels[half:], torch)]
        )


def _copy_vectors(space: EmbeddingSpace, ids: list[int], vectors: np.ndarray) -> None:
    """Store vectors with a binary COPY (pgvector's own binary form of each numpy row): ten times the
    rate of COPY's text form, which spent its time printing and parsing 768 decimals per row
    (bench/import_roco.py)."""
    sql = "COPY corpus_embedding (image_id, space_id, vector) FROM STDIN WITH (FORMAT BINARY)"
    with transaction.atomic():
        register_vector(connection.connection)  # before the cursor: a cursor copies the types it knows
        with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
            copy.set_types(["int8", "int8", "vector"])
            for image_id, vector in zip(ids, vectors, strict=True):
                copy.write_row((image_id, space.pk, np.asarray(vector, dtype=np.float32)))


def vector_literal(vector: np.ndarray) -> str:
    """pgvector's text form, '[0.1,0.2,…]', for query parameters."""
    return Vector(vector).to_text()


def as_index_vector(expression, *, dim: int) -> Cast:
    """`expression::halfvec(dim)`. One column holds every space's vectors, of several dimensions;
    pgvector indexes a fixed dimension, so each space's index is built on this cast, and searches
    order by the same cast so that the planner uses it. Half precision halves the index (195 MB per
    100k × 768-d) and finds the same neighbours as full precision (bench/vector_search.py); the
    similarity a user sees is still computed on the stored full-precision vector."""
    return Cast(expression, HalfVectorField(dimensions=dim))


INDEX_OPCLASS = "halfvec_cosine_ops"


def space_index(space: EmbeddingSpace, *, name: str = "") -> HnswIndex:
    """The space's partial HNSW expression index: `USING hnsw ((vector::halfvec(dim))
    halfvec_cosine_ops) WITH (m = …, ef_construction = …) WHERE space_id = …`, with the settings'
    MIRAGE_HNSW_M and MIRAGE_HNSW_EF_CONSTRUCTION. Spaces are rows created at run time by `embed`, so
    the index is added by `ensure_index`, not declared on the model (migrations cannot know the spaces)."""
    return HnswIndex(
        OpClass(as_index_vector(F("vector"), dim=int(space.dim)), name=INDEX_OPCLASS),
        name=name or space.index_name,
        condition=Q(space_id=space.pk),
        m=settings.MIRAGE_HNSW_M,
        ef_construction=settings.MIRAGE_HNSW_EF_CONSTRUCTION,
    )


def index_is_current(space: EmbeddingSpace) -> bool | None:
    """None when the space has no index; else whether it is the one `space_index` builds now (same
    cast, operator class and build parameters). An index built by an older version (the full-precision
    `vector(dim)` cast, m 16) or under other settings is not: the searches' ORDER BY would not match it."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_get_indexdef(oid), reloptions FROM pg_class WHERE relname = %s AND relkind = 'i'",
            [space.index_name],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    definition, options = row
    wanted = {f"m={settings.MIRAGE_HNSW_M}", f"ef_construction={settings.MIRAGE_HNSW_EF_CONSTRUCTION}"}
    return f"halfvec({int(space.dim)})) {INDEX_OPCLASS}" in definition and set(options or []) == wanted


def ensure_index(space: EmbeddingSpace) -> bool:
    """Build the space's partial HNSW index if it is missing or not the configured one (see
    `index_is_current`); True when it was (re)built now. The build may use MIRAGE_HNSW_BUILD_MEMORY."""
    current = index_is_current(space)
    if current:
        return False
    # Check deferred foreign keys now: PostgreSQL refuses CREATE INDEX while any are pending
    # (only the case when the caller wraps the embedding in a transaction of its own).
    connection.check_constraints()
    with connection.schema_editor() as editor:  # one transaction
        memory = settings.MIRAGE_HNSW_BUILD_MEMORY
        editor.execute("SELECT set_config('maintenance_work_mem', %s, true)", [memory])
        if current is None:
            editor.add_index(Embedding, space_index(space))
        else:
            # Build beside the old index, then swap: CREATE INDEX lets searches read on (exactly, as the
            # old index no longer matches their ORDER BY), while DROP INDEX locks the table out until
            # the commit, so it comes last.
            editor.add_index(Embedding, space_index(space, name=f"{space.index_name}_next"))
            editor.remove_index(Embedding, space_index(space))
            editor.execute(f'ALTER INDEX "{space.index_name}_next" RENAME TO "{space.index_name}"')
    EmbeddingSpace.objects.filter(pk=space.pk).update(indexed_at=timezone.now())
    return True


def space_drop(*, name: str) -> None:
    """Delete a space with its vectors and its index (before re-embedding with another model)."""
    space = EmbeddingSpace.objects.filter(name=name).first()
    if space is None:
        return
    with transaction.atomic(), connection.schema_editor() as editor:
        editor.remove_index(Embedding, space_index(space))  # DROP INDEX IF EXISTS
        space.delete()
