"""Search channels: nearest neighbours in an embedding space, full text on captions, and their fusion.

Each channel returns its own ranked list of (image id, similarity); reciprocal-rank fusion (RRF)
merges them, so a result found by several channels rises, and each result keeps which channels
found it and at which rank.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.db import connection, transaction

from apps.corpus.embeddings import vector_literal
from apps.corpus.models import Embedding, EmbeddingSpace
from apps.corpus.spaces import SpaceConfig
from apps.ml.encoders import Encoder, ModelUnavailable, load_encoder
from apps.search.filters import Restriction

FULL_TEXT = "text"

Ranking = list[tuple[int, float]]  # (image id, similarity), best first


@dataclass
class ChannelHit:
    rank: int  # 1-based
    similarity: float  # cosine similarity, or ts_rank for full text


@dataclass
class Channel:
    """An embedding space that can be searched now: its stored vectors and its query encoder."""

    config: SpaceConfig
    space: EmbeddingSpace
    encoder: Encoder


def _encoder_or_reason(spec: str) -> tuple[Encoder | None, str]:
    """The query encoder (loaded once per process by load_encoder), or why it cannot be had.

    A failure is not remembered (it costs ~0.1 ms to find again), so a model pulled while the
    server runs is used from the next search on.
    """
    try:
        return load_encoder(spec), ""
    except ModelUnavailable as exc:
        return None, str(exc)


def channel_for(config: SpaceConfig) -> tuple[Channel | None, str]:
    """The space as a searchable channel, or a one-line reason why it cannot run."""
    space = EmbeddingSpace.objects.filter(name=config.name).first()
    if space is not None and space.model != config.model:
        return None, f"The {config.label} was built with another model; run `manage.py embed --rebuild`."
    encoder, reason = _encoder_or_reason(config.model)
    if encoder is None:
        return None, reason
    if space is None or not space.embeddings.exists():
        return None, f"The {config.label} is empty; run `manage.py embed --space {config.name}`."
    return Channel(config=config, space=space, encoder=encoder), ""


def stored_vector(*, space: EmbeddingSpace, image_id: int) -> np.ndarray | None:
    row = Embedding.objects.filter(space=space, image_id=image_id).values_list("vector", flat=True).first()
    return None if row is None else np.asarray(row, dtype=np.float32)


def nearest_images(
    *,
    space: EmbeddingSpace,
    vector: np.ndarray,
    limit: int,
    where: Restriction,
    exclude_id: int | None = None,
) -> Ranking:
    """(image id, cosine similarity), best first, through the space's partial HNSW index.

    Iterative index scans (pgvector 0.8) keep scanning while the filter rejects rows, so a filter
    never silently returns fewer than `limit` results while enough matching images exist.
    """
    dim = int(space.dim)
    literal = vector_literal(vector)
    exclude = "AND e.image_id <> %s" if exclude_id is not None else ""
    sql = (
        f"SELECT e.image_id, 1 - (e.vector::vector({dim}) <=> %s::vector({dim})) AS similarity "
        f"FROM corpus_embedding e JOIN corpus_image i ON i.id = e.image_id "
        f"WHERE e.space_id = %s AND {where.sql} {exclude} "
        f"ORDER BY e.vector::vector({dim}) <=> %s::vector({dim}) LIMIT %s"
    )
    params = [
        literal,
        space.pk,
        *where.params,
        *([exclude_id] if exclude_id is not None else []),
        literal,
        limit,
    ]
    ef_search = max(settings.MIRAGE_HNSW_EF_SEARCH, min(limit, 1000))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT set_config('hnsw.ef_search', %s, true)", [str(ef_search)])
        cursor.execute("SELECT set_config('hnsw.iterative_scan', 'relaxed_order', true)")
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    # relaxed_order may return neighbours slightly out of order; order them exactly.
    return sorted(((image_id, float(sim)) for image_id, sim in rows), key=lambda row: -row[1])


def full_text_images(*, query: str, limit: int, where: Restriction) -> Ranking:
    """(image id, ts_rank), best first. Words are OR-ed: AND-queries miss half the targets (DESIGN.md)."""
    sql = (
        "SELECT i.id, ts_rank(i.search_vector, q) AS rank FROM corpus_image i, "
        "CAST(replace(CAST(plainto_tsquery('english', %s) AS text), ' & ', ' | ') AS tsquery) AS q "
        f"WHERE q::text <> '' AND i.search_vector @@ q AND {where.sql} ORDER BY rank DESC, i.id LIMIT %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [query, *where.params, limit])
        return [(image_id, float(rank)) for image_id, rank in cursor.fetchall()]


def fuse(rankings: dict[str, Ranking], *, rrf_k: int) -> list[tuple[int, float, dict[str, ChannelHit]]]:
    """Reciprocal-rank fusion; scores scaled so that rank 1 in every channel that ran is 1.0."""
    scores: dict[int, float] = {}
    found: dict[int, dict[str, ChannelHit]] = {}
    for channel, ranked in rankings.items():
        for rank, (image_id, similarity) in enumerate(ranked, start=1):
            scores[image_id] = scores.get(image_id, 0.0) + 1.0 / (rrf_k + rank)
            found.setdefault(image_id, {})[channel] = ChannelHit(rank=rank, similarity=similarity)
    best = len(rankings) / (rrf_k + 1) if rankings else 1.0
    ordered = sorted(scores, key=lambda image_id: (-scores[image_id], image_id))
    return [(image_id, scores[image_id] / best, found[image_id]) for image_id in ordered]
