"""Reads for search: text, image, "more like this", concept arithmetic and composed queries.

Every kind ends in the same place: ranked lists, from the channels that can run (the CLIP image
space, the caption space, full text), of the images the user may see that pass the filters
(`searchable_images`), fused by reciprocal rank and cut into pages. The parameters are read and
checked by `apps.search.params`, for pages and API alike.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from PIL import Image as PILImage

from apps.corpus.models import Image
from apps.corpus.spaces import CAPTION, CLIP, configured_spaces
from apps.search.channels import (
    FULL_TEXT,
    Channel,
    ChannelHit,
    Ranking,
    above_floor,
    channel_for,
    channels_for,
    exact_nearest_images,
    full_text_images,
    fuse,
    nearest_images,
    rerank,
    stored_vector,
)
from apps.search.filters import Filters, searchable_images
from apps.search.params import FUSED, PAPER, RERANKED, Arithmetic, QueryError, clean_query
from apps.search.vectors import ZeroVector, blend

CHANNEL_LABELS = {CLIP: "CLIP image match", CAPTION: "caption meaning", FULL_TEXT: "caption words"}
MAX_CANDIDATES = 1000
NO_FILTERS = Filters()


@dataclass
class SearchHit:
    image: Image
    score: float  # the ordering's score, 0..1: fused, 1 = ranked first by every channel that ran
    channels: dict[str, ChannelHit] = field(default_factory=dict)
    ways: int = 1  # how many channels ran
    rerank_similarity: float | None = None  # to the description, when re-ranked

    @property
    def similarity(self) -> float | None:
        """The best cosine similarity among the embedding channels that found it (full text's
        ts_rank is no similarity); None when only caption words found it."""
        found = [hit.similarity for name, hit in self.channels.items() if name != FULL_TEXT]
        return max(found) if found else None

    @property
    def percent(self) -> int | None:
        """The best similarity as a percentage, for the card (never "100%" for merely coming first)."""
        return None if self.similarity is None else round(max(0.0, self.similarity) * 100)

    @property
    def found_by(self) -> int:
        return len(self.channels)

    @property
    def found_by_labels(self) -> list[str]:
        """Each channel that found the image and the rank it gave ("caption space #3"), for the card."""
        return [f"{CHANNEL_LABELS[name]} #{hit.rank}" for name, hit in self.channels.items()]


GOOD, WEAK, NONE = "good", "weak", "none"


@dataclass
class SearchResult:
    label: str  # what was searched, in words: the query, "q + add − sub", "image: chest.png"
    k: int
    page: int
    hits: list[SearchHit]
    total: int  # candidates available above the floors (bounded by MAX_CANDIDATES per channel)
    channels: list[str]  # channels that ran
    notices: list[str]  # one-line explanations for anyone, e.g. that a way of searching did not run
    filters: Filters = NO_FILTERS
    query: str = ""  # the text query, when there is one
    ranking: str = FUSED
    match: str = GOOD  # GOOD, WEAK (no result found by two ways, or under the floor) or NONE
    advice: str = ""  # what to try instead, for a weak or empty result
    # Why a channel did not run and what installs it (model ids, commands): for administrators only.
    admin_notes: list[str] = field(default_factory=list)

    @property
    def has_next(self) -> bool:
        return self.page * self.k < self.total

    @property
    def channel_labels(self) -> list[str]:
        """The labels of the channels that ran, in words for the page."""
        return [CHANNEL_LABELS[name] for name in self.channels]

    @property
    def first_rank(self) -> int:
        return (self.page - 1) * self.k + 1

    @property
    def last_rank(self) -> int:
        return self.first_rank + len(self.hits) - 1


ADVICE = (
    "Try other words: the kind of image and the body part (“CT of the abdomen”, “chest X-ray”), "
    "the finding in plain terms (“collapsed lung”), or fewer words."
)


def floors() -> dict[str, float]:
    """The similarity floor of each embedding channel (settings)."""
    return {CLIP: settings.MIRAGE_SIMILARITY_FLOOR_CLIP, CAPTION: settings.MIRAGE_SIMILARITY_FLOOR_CAPTION}


def _quality(*, ordered: list[tuple[int, float, dict[str, ChannelHit]]], ways: int) -> str:
    """NONE without results; WEAK when no result was found by two ways of searching (when two or more
    ran), or, for a single channel, when even the best similarity is under that channel's floor."""
    if not ordered:
        return NONE
    if ways >= 2:
        return GOOD if any(len(found) >= 2 for _, _, found in ordered) else WEAK
    floor = floors()
    best = max(
        (hit.similarity for _, _, found in ordered for name, hit in found.items() if name in floor),
        default=None,
    )
    names = {name for _, _, found in ordered for name in found}
    if best is not None and all(name in floor for name in names) and best < min(floor[n] for n in names):
        return WEAK
    return GOOD


# --- Channels ----------------------------------------------------------------------------------------


# What a student reads when a way of searching cannot run (the reason, with its model id and command,
# goes to SearchResult.admin_notes and `manage.py models check`).
UNAVAILABLE = {
    CLIP: "Matching your words to the pictures themselves is not available on this server, so these results "
    "come from the captions.",
    CAPTION: "Searching by caption meaning is not available on this server, so these results come from the "
    "captions' words.",
}
PICTURE_UNAVAILABLE = "Searching by picture is not available on this server."
PAPER_UNAVAILABLE = (
    "The paper's ranking orders results by the CLIP model alone, which is not available on this server; "
    "choose the fused ranking."
)
NO_INDEX = "it has no searchable image or caption index yet"


def _channels(notices: list[str], admin_notes: list[str]) -> dict[str, Channel]:
    """Embedding channels that can run now; for each that cannot, one plain line in `notices` and the
    reason (model id, command) in `admin_notes`."""
    channels = {}
    configs = configured_spaces()
    found = channels_for(list(configs.values()))
    for name, config in configs.items():
        channel, reason = found[config.name]
        if channel is not None:
            channels[name] = channel
        else:
            notices.append(UNAVAILABLE.get(name, f"The {config.label} is not available on this server."))
            admin_notes.append(f"{config.label}: {reason.rstrip('.')}.")
    return channels


def picture_search_available() -> bool:
    """Whether this server can search by picture (the CLIP space, encoder and vectors), for the pages
    to offer the form only where it works."""
    return channel_for(configured_spaces()[CLIP])[0] is not None


def _clip_channel(*, ranking: str = "") -> Channel:
    """The CLIP image space, or one plain sentence: image queries and the paper's ranking need it (why
    not, and what installs it, is `manage.py models check`'s to say)."""
    channel, _ = channel_for(configured_spaces()[CLIP])
    if channel is None and ranking == PAPER:
        raise QueryError(PAPER_UNAVAILABLE, status=409, field="ranking")
    if channel is None:
        raise QueryError(PICTURE_UNAVAILABLE, status=409)
    return channel


def _depth(k: int, page: int) -> int:
    return min(MAX_CANDIDATES, page * k * 2 + 50)


def _page(
    *,
    label: str,
    query: str = "",
    k: int,
    page: int,
    filters: Filters,
    rankings: dict[str, Ranking],
    notices: list[str],
    ranking: str = FUSED,
    reorder: Callable[[list], list] | None = None,
    admin_notes: list[str] | None = None,
) -> SearchResult:
    """One page of the fused rankings (`reorder`, when given, re-orders the fused list)."""
    ordered = fuse(rankings, rrf_k=settings.MIRAGE_RRF_K)
    reranked: dict[int, float | None] = {}
    if reorder is not None:
        found = {image_id: (score, channels) for image_id, score, channels in ordered}
        new_order = reorder([image_id for image_id, _, _ in ordered])
        reranked = dict(new_order)
        ordered = [(image_id, found[image_id][0], found[image_id][1]) for image_id, _ in new_order]
    window = ordered[(page - 1) * k : page * k]
    images = Image.objects.select_related("dataset").in_bulk([image_id for image_id, _, _ in window])
    ways = len(rankings)
    hits = [
        SearchHit(
            image=images[image_id],
            score=score,
            channels=channels,
            ways=ways,
            rerank_similarity=reranked.get(image_id),
        )
        for image_id, score, channels in window
        if image_id in images
    ]
    match = _quality(ordered=ordered, ways=ways)
    return SearchResult(
        label=label,
        query=query,
        k=k,
        page=page,
        hits=hits,
        total=len(ordered),
        channels=list(rankings),
        notices=notices,
        filters=filters,
        ranking=ranking,
        match=match,
        advice="" if match == GOOD else ADVICE,
        admin_notes=admin_notes or [],
    )


def pseudo_description(*, query: str, order: list[int]) -> str:
    """What stands in for a written description: the query and the first three results' captions."""
    captions = dict(Image.objects.filter(pk__in=order[:3]).values_list("pk", "caption"))
    return " ".join(part for part in [query, *(captions.get(pk, "") for pk in order[:3])] if part)


def _by_description(
    *, description: str, query: str, channels: dict[str, Channel], notices: list[str]
) -> Callable[[list[int]], list]:
    """Re-ranking as the paper's official code does (retrieve, describe, re-rank): the description is
    encoded with the CLIP text tower and compared with the first results' image vectors; without
    CLIP, with the caption encoder and their caption vectors. Without a description, the
    pseudo-description stands in (`pseudo_description`)."""
    channel = channels.get(CLIP) or channels.get(CAPTION)
    if channel is None:
        raise QueryError(f"Re-ranking is not available on this server: {NO_INDEX}.", status=409)
    depth = settings.MIRAGE_RERANK_DEPTH
    space = "CLIP image space" if channel.config.name == CLIP else "caption space"
    if description:
        notices.append(
            f"The first {depth} results are re-ranked by their closeness to the description ({space})."
        )
    else:
        notices.append(
            f"The first {depth} results are re-ranked by their closeness ({space}) to the query joined with "
            "the first three captions found, which stand in for a description."
        )

    def reorder(order: list[int]) -> list:
        text = description or pseudo_description(query=query, order=order)
        return rerank(
            order=order, space=channel.space, vector=channel.encoder.encode_query(text), depth=depth
        )

    return reorder


# --- The kinds of search -----------------------------------------------------------------------------


def text_search(
    *,
    query: str,
    k: int = 20,
    page: int = 1,
    filters: Filters = NO_FILTERS,
    user=None,
    require_file: bool = True,
    ranking: str = FUSED,
    description: str = "",
) -> SearchResult:
    """Text → images, one page of k results, ordered by `ranking`:
    FUSED: CLIP space + caption space + full text, each above its similarity floor, fused by RRF;
    PAPER: exact CLIP cosine similarity, as the paper ranks (a `QueryError` when CLIP cannot run);
    RERANKED: the fused order with its first results re-ranked by a description (`_by_description`).
    """
    query = clean_query(query)
    candidates = searchable_images(filters=filters, user=user, require_file=require_file)
    depth = _depth(k, page)
    common = {"label": query, "query": query, "k": k, "page": page, "filters": filters, "ranking": ranking}
    if ranking == PAPER:
        clip = _clip_channel(ranking=PAPER)
        vector = clip.encoder.encode_query(query)
        exact = exact_nearest_images(space=clip.space, vector=vector, limit=depth, among=candidates)
        return _page(rankings={CLIP: exact}, notices=[], **common)
    notices: list[str] = []
    admin_notes: list[str] = []
    channels = _channels(notices, admin_notes)
    rankings: dict[str, Ranking] = {
        name: nearest_images(
            space=ch.space, vector=ch.encoder.encode_query(query), limit=depth, among=candidates
        )
        for name, ch in channels.items()
    }
    rankings[FULL_TEXT] = full_text_images(query=query, limit=depth, among=candidates)
    reorder = None
    if ranking == RERANKED:
        reorder = _by_description(description=description, query=query, channels=channels, notices=notices)
    return _page(
        rankings=above_floor(rankings, floors()),
        notices=notices,
        reorder=reorder,
        admin_notes=admin_notes,
        **common,
    )


def picture_search(
    *,
    picture: PILImage.Image,
    label: str,
    text: str = "",
    text_weight: float = 0.5,
    k: int = 20,
    page: int = 1,
    filters: Filters = NO_FILTERS,
    user=None,
    ranking: str = FUSED,
    description: str = "",
) -> SearchResult:
    """An uploaded image → similar images in the CLIP image space; with `text`, a composed query
    ("this image, but with contrast"): normalize((1 − w)·image + w·text), w = `text_weight`.

    Only the CLIP space can compare a picture, so FUSED is its nearest neighbours (HNSW index),
    PAPER the exact scan, RERANKED the first ones re-ranked by a description."""
    clip = _clip_channel()
    vector = clip.encoder.encode_images([picture])[0]
    if text:
        text = clean_query(text, what="modifier")
        try:
            vector = blend(vector, clip.encoder.encode_query(text), text_weight=text_weight)
        except ZeroVector:
            raise QueryError("The image and the words cancel out; change the text weight.") from None
        label = f"{label} + “{text}” (text weight {text_weight:g})"
    candidates = searchable_images(filters=filters, user=user)
    nearest = exact_nearest_images if ranking == PAPER else nearest_images
    ranked = nearest(space=clip.space, vector=vector, limit=_depth(k, page), among=candidates)
    notices: list[str] = []
    reorder = None
    if ranking == RERANKED:
        reorder = _by_description(description=description, query=text, channels={CLIP: clip}, notices=notices)
    return _page(
        label=label,
        query=text,
        k=k,
        page=page,
        filters=filters,
        rankings={CLIP: ranked},
        notices=notices,
        ranking=ranking,
        reorder=reorder,
    )


def similar_search(
    *, image: Image, k: int = 20, page: int = 1, filters: Filters = NO_FILTERS, user=None
) -> SearchResult:
    """ "More like this": neighbours of a stored image in the CLIP space.

    Without a CLIP space, the fallback is labelled: images whose captions mean the same.
    """
    candidates = searchable_images(filters=filters, user=user)
    depth = _depth(k, page)
    label = f"more like {image.external_id}"
    notices: list[str] = []
    admin_notes: list[str] = []
    channels = _channels(notices, admin_notes)
    for name in (CLIP, CAPTION):
        channel = channels.get(name)
        vector = stored_vector(space=channel.space, image_id=image.pk) if channel else None
        if vector is None:
            continue
        if name == CAPTION:
            notices = [
                "Comparing the pictures themselves is not available on this server, so these are images "
                "with similar captions."
            ]
        ranking = nearest_images(
            space=channel.space, vector=vector, limit=depth, among=candidates, exclude_id=image.pk
        )
        return _page(
            label=label,
            k=k,
            page=page,
            filters=filters,
            rankings={name: ranking},
            notices=notices,
            admin_notes=admin_notes,
        )
    raise QueryError(
        "“More like this” is not available for this image: it has not been indexed yet.", status=409
    )


def arithmetic_search(
    *,
    terms: Arithmetic,
    k: int = 20,
    page: int = 1,
    filters: Filters = NO_FILTERS,
    user=None,
    ranking: str = FUSED,
    description: str = "",
) -> tuple[SearchResult, SearchResult]:
    """The paper's dual search: results for q, and for normalize(q + add − sub), side by side.

    Both sides use the same embedding channels (full text cannot subtract), so the difference
    between the columns is the arithmetic alone; PAPER uses the CLIP space alone, exactly, and
    RERANKED re-ranks each column by its own pseudo-description (or the right column by
    `description`). Terms that cancel out are a `QueryError` (400).
    """
    candidates = searchable_images(filters=filters, user=user)
    depth = _depth(k, page)
    notices: list[str] = []
    admin_notes: list[str] = []
    channels = {CLIP: _clip_channel(ranking=PAPER)} if ranking == PAPER else _channels(notices, admin_notes)
    if not channels:
        raise QueryError(f"Concept arithmetic is not available on this server: {NO_INDEX}.", status=409)
    original, modified = {}, {}
    for name, ch in channels.items():
        combined = terms.vector(ch.encoder.encode_query)
        plain = ch.encoder.encode_query(terms.query)
        if ranking == PAPER:
            original[name] = exact_nearest_images(space=ch.space, vector=plain, limit=depth, among=candidates)
            modified[name] = exact_nearest_images(
                space=ch.space, vector=combined, limit=depth, among=candidates
            )
        else:
            original[name] = nearest_images(space=ch.space, vector=plain, limit=depth, among=candidates)
            modified[name] = nearest_images(space=ch.space, vector=combined, limit=depth, among=candidates)
    if ranking != PAPER:
        original, modified = above_floor(original, floors()), above_floor(modified, floors())
    common = {"k": k, "page": page, "filters": filters, "ranking": ranking, "admin_notes": admin_notes}
    left_notices, right_notices = list(notices), list(notices)
    left_order = right_order = None
    if ranking == RERANKED:
        left_order = _by_description(
            description="", query=terms.query, channels=channels, notices=left_notices
        )
        right_order = _by_description(
            description=description, query=terms.prompt, channels=channels, notices=right_notices
        )
    return (
        _page(
            label=terms.query,
            query=terms.query,
            rankings=original,
            notices=left_notices,
            reorder=left_order,
            **common,
        ),
        _page(
            label=terms.label,
            query=terms.prompt,
            rankings=modified,
            notices=right_notices,
            reorder=right_order,
            **common,
        ),
    )
