"""Search channels: nearest neighbours in an embedding space, full text on captions, and their fusion.

Each channel ranks the queryset it is given (the images the user may see, filtered:
`apps.search.filters.searchable_images`) and returns its own ranked list of (image id, similarity);
reciprocal-rank fusion (RRF) merges them, so a result found by several channels rises, and each
result keeps which channels found it and at which rank. Raw SQL is left only for the index scan's
settings (sent with its query) and for reading the lexemes of a query.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db import connection
from django.db.models import F, QuerySet, Value
from django.db.models.functions import Cast
from pgvector.django import CosineDistance, VectorField

from apps.corpus.embeddings import as_index_vector, vector_literal
from apps.corpus.models import Embedding, EmbeddingSpace, Image
from apps.corpus.selectors import caption_word_counts
from apps.corpus.spaces import SpaceConfig
from apps.ml.encoders import QUERY_CACHE_SIZE, Encoder, ModelUnavailable, load_encoder

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


def channels_for(configs: list[SpaceConfig]) -> dict[str, tuple[Channel | None, str]]:
    """Each space (by name) as a searchable channel, or a one-line reason why it cannot run; the
    spaces in one query. Whether one holds vectors is asked of that space alone (`_channel`): asked
    of all of them in the same query, PostgreSQL scanned the whole embedding table for an empty one."""
    spaces = EmbeddingSpace.objects.filter(name__in=[config.name for config in configs])
    found = {space.name: space for space in spaces}
    return {config.name: _channel(config, found.get(config.name)) for config in configs}


def channel_for(config: SpaceConfig) -> tuple[Channel | None, str]:
    """The space as a searchable channel, or a one-line reason why it cannot run."""
    return channels_for([config])[config.name]


def _channel(config: SpaceConfig, space: EmbeddingSpace | None) -> tuple[Channel | None, str]:
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


def neighbours(
    *,
    space: EmbeddingSpace,
    vector: np.ndarray,
    among: QuerySet[Image],
    exclude_id: int | None = None,
    exact: bool = False,
) -> QuerySet:
    """(image id, cosine distance) rows of `among`, nearest first. The distance is always computed on
    the stored full-precision vectors. The order is the half-precision distance, the same expression
    as the space's partial HNSW index (`apps.corpus.embeddings.space_index`) so that the index serves
    it, or with `exact` the full-precision distance itself, which no index serves (a full scan)."""
    dim = int(space.dim)
    query = vector_literal(vector)
    distance = CosineDistance(F("embeddings__vector"), Cast(Value(query), VectorField()))
    rows = among.filter(embeddings__space=space)
    if exclude_id is not None:
        rows = rows.exclude(pk=exclude_id)
    order = (
        F("distance")
        if exact
        else CosineDistance(
            as_index_vector(F("embeddings__vector"), dim=dim), as_index_vector(Value(query), dim=dim)
        )
    )
    return rows.annotate(distance=distance).order_by(order).values_list("pk", "distance")


def nearest_images(
    *,
    space: EmbeddingSpace,
    vector: np.ndarray,
    limit: int,
    among: QuerySet[Image],
    exclude_id: int | None = None,
) -> Ranking:
    """(image id, cosine similarity), best first, among `among`, through the space's HNSW index.

    Iterative index scans (pgvector 0.8) keep scanning while the filter rejects rows, so a filter
    never silently returns fewer than `limit` results while enough matching images exist.
    """
    nearest = neighbours(space=space, vector=vector, among=among, exclude_id=exclude_id)[:limit]
    ef_search = max(settings.MIRAGE_HNSW_EF_SEARCH, min(limit, 1000))
    sql, params = nearest.query.sql_with_params()
    # One round trip: statements sent together run as one transaction (or in the caller's), which the
    # SET LOCALs last for. Django's cursors bind parameters on the client, so several statements may go
    # in one message; the SETs' (empty) results come first.
    with connection.cursor() as cursor:
        cursor.execute(
            f"SET LOCAL hnsw.ef_search = {int(ef_search)}; "
            f"SET LOCAL hnsw.iterative_scan = relaxed_order; {sql}",
            params,
        )
        cursor.nextset()
        cursor.nextset()
        rows = cursor.fetchall()
    # relaxed_order, and the half-precision order, may put neighbours slightly out of order; order
    # them by their full-precision similarity.
    return sorted(((image_id, 1.0 - float(d)) for image_id, d in rows), key=lambda row: -row[1])


def exact_nearest_images(
    *, space: EmbeddingSpace, vector: np.ndarray, limit: int, among: QuerySet[Image]
) -> Ranking:
    """The exact top `limit` by cosine similarity, a full scan (the paper's ranking is exact; an
    approximate index may miss a true neighbour)."""
    nearest = neighbours(space=space, vector=vector, among=among, exact=True)[:limit]
    return [(image_id, 1.0 - float(d)) for image_id, d in nearest]


def above_floor(rankings: dict[str, Ranking], floors: dict[str, float]) -> dict[str, Ranking]:
    """Each channel's ranking without the neighbours below its similarity floor (a nearest
    neighbour always exists; it is a match only when it is close enough). Full text has no floor:
    it lists only captions that share a word with the query."""
    return {
        name: [row for row in ranked if name not in floors or row[1] >= floors[name]]
        for name, ranked in rankings.items()
    }


def stored_vectors(*, space: EmbeddingSpace, image_ids: list[int]) -> dict[int, np.ndarray]:
    rows = Embedding.objects.filter(space=space, image_id__in=image_ids).values_list("image_id", "vector")
    return {image_id: np.asarray(vector, dtype=np.float32) for image_id, vector in rows}


def rerank(
    *, order: list[int], space: EmbeddingSpace, vector: np.ndarray, depth: int
) -> list[tuple[int, float]]:
    """The first `depth` of `order` re-ordered by cosine similarity to `vector` in `space`, the rest
    after them as they were; each with its similarity to `vector` (None past `depth`, or without a
    stored vector: those keep their place after the scored ones)."""
    head, tail = order[:depth], order[depth:]
    vectors = stored_vectors(space=space, image_ids=head)
    unit = vector / (np.linalg.norm(vector) or 1.0)
    scored = sorted(
        ((image_id, float(vectors[image_id] @ unit)) for image_id in head if image_id in vectors),
        key=lambda row: -row[1],
    )
    unscored = [(image_id, None) for image_id in head if image_id not in vectors]
    return scored + unscored + [(image_id, None) for image_id in tail]


class AnyWordQuery(SearchQuery):
    """plainto_tsquery with its words OR-ed: AND-queries miss half the targets (DESIGN.md)."""

    template = "CAST(replace(CAST(%(function)s(%(expressions)s) AS text), ' & ', ' | ') AS tsquery)"


# Full text ranks about this many captions per query at most: ts_rank costs microseconds a row, and
# ranking every caption that shares one common word with the query ("chest") grew with the corpus.
FULL_TEXT_CANDIDATES = 2_000


def full_text_images(*, query: str, limit: int, among: QuerySet[Image]) -> Ranking:
    """(image id, ts_rank), best first, among `among`; through the captions' GIN index.

    The captions ranked are those holding the query's least common words, as many of them as
    FULL_TEXT_CANDIDATES allows by the corpus's word counts (`caption_word_counts`): for "chest x-ray
    with pneumothorax" in ROCO at 100k, those saying "pneumothorax", not all that say "chest". At most
    2 × FULL_TEXT_CANDIDATES are ranked (when even the least common word is that common, any of them).
    All the query's words count in the rank."""
    words = AnyWordQuery(query, config="english")
    candidates = (
        among.filter(search_vector=_least_common_words(query) or words)
        .annotate(rank=SearchRank(F("search_vector"), words))
        .values_list("pk", "rank")[: 2 * FULL_TEXT_CANDIDATES]
    )
    # Each candidate is ranked as it is read, then the ranked ones are ordered: the ORM cannot select
    # from a subquery, and ordering them in the ORM meant reading every candidate's row a second time.
    sql, params = candidates.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM ({sql}) AS candidates ORDER BY 2 DESC, 1 LIMIT %s", [*params, limit])
        return [(image_id, float(rank)) for image_id, rank in cursor.fetchall()]


def _least_common_words(query: str) -> SearchQuery | None:
    """The query's least common words, OR-ed: from the rarest, while the captions holding them add up
    to at most FULL_TEXT_CANDIDATES (the rarest always). None when that is every word (or none)."""
    counts = caption_word_counts()  # only the corpus's most common words are counted
    if not counts:
        return None
    lexemes = _lexemes(query)
    unlisted = min(counts.values()) / 2  # what PostgreSQL's planner assumes for a word not counted
    chosen, total = [], 0.0
    for word in sorted(lexemes, key=lambda word: counts.get(word, unlisted)):
        total += counts.get(word, unlisted)
        if chosen and total > FULL_TEXT_CANDIDATES:
            break
        chosen.append(word)
    if len(chosen) == len(lexemes):
        return None
    # Stemmed already: matched as they are ('simple'), each quoted as a tsquery lexeme.
    quoted = " | ".join("'" + word.replace("\\", "\\\\").replace("'", "''") + "'" for word in chosen)
    return SearchQuery(quoted, search_type="raw", config="simple")


@functools.lru_cache(maxsize=QUERY_CACHE_SIZE)
def _lexemes(query: str) -> tuple[str, ...]:
    """The query's search lexemes (PostgreSQL's English configuration), kept per process like its
    embedding (`Encoder.encode_query`)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT tsvector_to_array(to_tsvector('english', %s))", [query])
        return tuple(cursor.fetchone()[0])


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
