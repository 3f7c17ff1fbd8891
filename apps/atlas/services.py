"""Building the map of a space: PCA on its vectors, every point projected, cached in AtlasMap."""

from __future__ import annotations

import numpy as np
from django.db import transaction
from django.db.models import Count, Max

from apps.atlas.models import AtlasMap
from apps.atlas.projection import fit_basis
from apps.core.errors import UserError
from apps.corpus.models import Embedding, EmbeddingSpace

MAX_POINTS = 100_000  # beyond this the map shows a fixed random sample (the canvas stays smooth)


class AtlasError(UserError):
    pass


def atlas_key(*, space: EmbeddingSpace) -> str:
    """What the map depends on: how many vectors the space holds and the newest one (ids only grow),
    so adding, re-embedding or deleting images makes the cached map stale."""
    facts = Embedding.objects.filter(space=space).aggregate(n=Count("id"), newest=Max("id"))
    return f"{facts['n']}:{facts['newest'] or 0}"


def atlas_build(*, space: EmbeddingSpace, seed: int = 0) -> AtlasMap:
    """(Re)compute the space's map and store it. Deterministic for the same vectors and seed."""
    key = atlas_key(space=space)
    rows = Embedding.objects.filter(space=space).order_by("image_id")
    ids = np.fromiter(rows.values_list("image_id", flat=True).iterator(chunk_size=10_000), dtype=np.int64)
    if len(ids) < 2:
        raise AtlasError(
            f"Too few images are indexed in the {space.name} space to draw a map yet.",
            status=409,
        )
    total = len(ids)
    if total > MAX_POINTS:
        ids = np.sort(np.random.default_rng(seed).choice(ids, MAX_POINTS, replace=False))
        rows = rows.filter(image_id__in=ids.tolist())
    vectors = np.empty((len(ids), space.dim), dtype=np.float32)
    for i, vector in enumerate(rows.values_list("vector", flat=True).iterator(chunk_size=5_000)):
        vectors[i] = vector
    basis = fit_basis(vectors, seed=seed)
    xy = basis.project(vectors)
    with transaction.atomic():
        atlas, _ = AtlasMap.objects.update_or_create(
            space=space,
            defaults={
                "key": key,
                "method": "pca",
                "mean": basis.mean.tobytes(),
                "axes": basis.axes.tobytes(),
                "scale": basis.scale,
                "image_ids": ids.tobytes(),
                "xy": np.ascontiguousarray(xy, dtype=np.float32).tobytes(),
                "total": total,
            },
        )
    return atlas


def atlas_current(*, space: EmbeddingSpace, rebuild_below: int = 20_000) -> tuple[AtlasMap | None, bool]:
    """The space's map and whether it is stale. A missing or stale map of a small space is rebuilt
    at once (well under a second); a large one is rebuilt by a background job meanwhile."""
    atlas = AtlasMap.objects.filter(space=space).first()
    key = atlas_key(space=space)
    if atlas is not None and atlas.key == key:
        return atlas, False
    if int(key.split(":")[0]) <= rebuild_below:
        return atlas_build(space=space), False
    from django_q.tasks import async_task

    transaction.on_commit(lambda: async_task("apps.atlas.tasks.build_map", space.name, group="atlas"))
    return atlas, True
