"""Reads for search: text queries ranked in the CLIP space, the caption space and by full text, fused.

Each channel returns its own ranked list; reciprocal-rank fusion (RRF) merges them, so a result
found by several channels rises, and every result says which channels found it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from django.conf import settings
from django.db import connection, transaction

from apps.corpus.embeddings import vector_literal
from apps.corpus.models import EmbeddingSpace, Image
from apps.corpus.spaces import CAPTION, CLIP, SpaceConfig, configured_spaces
from apps.ml.encoders import Encoder, ModelUnavailable, load_encoder

logger = logging.getLogger(__name__)

FULL_TEXT = "text"
CHANNEL_LABELS = {CLIP: "CLIP image match", CAPTION: "caption meaning", FULL_TEXT: "caption words"}
MAX_K = 100
MAX_CANDIDATES = 1000


class QueryError(ValueError):
    """A query the user must change; the message is shown as it is."""


@dataclass
class ChannelHit:
    rank: int  # 1-based
    similarity: float  # cosine similarity, or ts_rank for full text


@dataclass
class SearchHit:
    image: Image
    score: float  # fused, 0..1: 1 = ranked first by every channel that ran
    channels: dict[str, ChannelHit] = field(default_factory=dict)

    @property
    def percent(self) -> int:
        return round(self.score * 100)


@dataclass
class SearchResult:
    query: str
    k: int
    page: int
    hits: list[SearchHit]
    total: int  # fused candidates available (bounded by MAX_CANDIDATES per channel)
    channels: list[str]  # channels that ran
    notices: list[str]  # one-line explanations, e.g. why a channel did not run

    @property
    def has_next(self) -> bool:
        return self.page * self.k < self.total

    @property
    def first_rank(self) -> int:
        return (self.page - 1) * self.k + 1

    @property
    def last_rank(self) -> int:
        return self.first_rank + len(self.hits) - 1


def clean_query(text: str | None) -> str:
    text = " ".join((text or "").split())
    if not text:
        raise QueryError("Type what you are looking for, e.g. “chest X-ray with pneumothorax”.")
    if len(text) > settings.MIRAGE_MAX_QUERY_CHARS:
        raise QueryError(
            f"The query is {len(text)} characters long; the limit is {settings.MIRAGE_MAX_QUERY_CHARS}. "
            "Shorten it to the findings that matter."
        )
    return text


def clean_k(value: object, default: int = 20) -> int:
    try:
        k = int(value) if value not in (None, "") else default
    except (TypeError, ValueError):
        raise QueryError("The number of results must be a whole number from 1 to 100.") from None
    if not 1 <= k <= MAX_K:
        raise QueryError("The number of results must be from 1 to 100.")
    return k


def clean_page(value: object) -> int:
    try:
        page = int(value) if value not in (None, "") else 1
    except (TypeError, ValueError):
        raise QueryError("The page must be a whole number.") from None
    if page < 1 or page * MAX_K > MAX_CANDIDATES * 3:
        raise QueryError("That page is out of range.")
    return page


@lru_cache(maxsize=8)
def _encoder_or_reason(spec: str) -> tuple[Encoder | None, str]:
    """Load a query encoder once per process; remember why when it cannot be had."""
    try:
        return load_encoder(spec), ""
    except ModelUnavailable as exc:
        return None, str(exc)


def space_status(config: SpaceConfig) -> tuple[EmbeddingSpace | None, Encoder | None, str]:
    """The stored space and its query encoder, or a one-line reason why this channel cannot run."""
    space = EmbeddingSpace.objects.filter(name=config.name).first()
    if space is not None and space.model != config.model:
        return (
            None,
            None,
            f"The {config.label} was built with another model; run `manage.py embed --rebuild`.",
        )
    encoder, reason = _encoder_or_reason(config.model)
    if encoder is None:
        return None, None, reason
    if space is None or not space.embeddings.exists():
        return None, None, f"The {config.label} is empty; run `manage.py embed --space {config.name}`."
    return space, encoder, ""


def image_search(*, query: str, k: int = 20, page: int = 1, require_file: bool = True) -> SearchResult:
    """Text → images: CLIP space + caption space + full text, fused by RRF, one page of k results."""
    query = clean_query(query)
    depth = min(MAX_CANDIDATES, page * k * 2 + 50)
    rankings: dict[str, list[tuple[int, float]]] = {}
    notices: list[str] = []
    for name, config in configured_spaces().items():
        space, encoder, reason = space_status(config)
        if space is None:
            if name == CLIP:
                notices.append(
                    f"Image-space (CLIP) search is off — {reason} Results come from caption search."
                )
            else:
                notices.append(reason)
            continue
        vector = encoder.encode_query(query)
        rankings[name] = nearest_images(space=space, vector=vector, limit=depth, require_file=require_file)
    rankings[FULL_TEXT] = full_text_images(query=query, limit=depth, require_file=require_file)
    return _page(query=query, k=k, page=page, rankings=rankings, notices=notices)


def nearest_images(
    *, space: EmbeddingSpace, vector: np.ndarray, limit: int, require_file: bool = True
) -> list[tuple[int, float]]:
    """(image id, cosine similarity), best first, through the space's partial HNSW index.

    Iterative index scans (pgvector 0.8) keep scanning when the image filter rejects rows, so a
    filter never silently returns fewer than `limit` results while enough matching images exist.
    """
    dim = int(space.dim)
    literal = vector_literal(vector)
    file_filter = "AND i.file <> ''" if require_file else ""
    sql = (
        f"SELECT e.image_id, 1 - (e.vector::vector({dim}) <=> %s::vector({dim})) AS similarity "
        f"FROM corpus_embedding e JOIN corpus_image i ON i.id = e.image_id "
        f"WHERE e.space_id = %s {file_filter} "
        f"ORDER BY e.vector::vector({dim}) <=> %s::vector({dim}) LIMIT %s"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('hnsw.ef_search', %s, true)",
            [str(max(settings.MIRAGE_HNSW_EF_SEARCH, min(limit, 1000)))],
        )
        cursor.execute("SELECT set_config('hnsw.iterative_scan', 'relaxed_order', true)")
        cursor.execute(sql, [literal, space.pk, literal, limit])
        rows = cursor.fetchall()
    # relaxed_order may return neighbours slightly out of order; order them exactly.
    return sorted(((image_id, float(sim)) for image_id, sim in rows), key=lambda row: -row[1])


def full_text_images(*, query: str, limit: int, require_file: bool = True) -> list[tuple[int, float]]:
    """(image id, ts_rank), best first. Words are OR-ed: AND-queries miss half the targets (DESIGN.md)."""
    file_filter = "AND file <> ''" if require_file else ""
    sql = (
        "SELECT id, ts_rank(search_vector, q) AS rank FROM corpus_image, "
        "CAST(replace(CAST(plainto_tsquery('english', %s) AS text), ' & ', ' | ') AS tsquery) AS q "
        f"WHERE q::text <> '' AND search_vector @@ q {file_filter} ORDER BY rank DESC, id LIMIT %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [query, limit])
        return [(image_id, float(rank)) for image_id, rank in cursor.fetchall()]


def fuse(
    rankings: dict[str, list[tuple[int, float]]], *, rrf_k: int
) -> list[tuple[int, float, dict[str, ChannelHit]]]:
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


def _page(
    *, query: str, k: int, page: int, rankings: dict[str, list[tuple[int, float]]], notices: list[str]
) -> SearchResult:
    fused = fuse(rankings, rrf_k=settings.MIRAGE_RRF_K)
    window = fused[(page - 1) * k : page * k]
    images = Image.objects.select_related("dataset").in_bulk([image_id for image_id, _, _ in window])
    hits = [
        SearchHit(image=images[image_id], score=score, channels=channels)
        for image_id, score, channels in window
        if image_id in images
    ]
    return SearchResult(
        query=query,
        k=k,
        page=page,
        hits=hits,
        total=len(fused),
        channels=list(rankings),
        notices=notices,
    )
