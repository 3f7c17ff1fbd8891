"""Reads for search: text, image, "more like this", concept arithmetic and composed queries.

Every kind ends in the same place: ranked lists, from the channels that can run (the CLIP image
space, the caption space, full text), of the images the user may see that pass the filters
(`searchable_images`), fused by reciprocal rank and cut into pages. The parameters are read and
checked by `apps.search.params`, for pages and API alike.
"""

from __future__ import annotations

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
    channel_for,
    full_text_images,
    fuse,
    nearest_images,
    stored_vector,
)
from apps.search.filters import Filters, searchable_images
from apps.search.params import Arithmetic, QueryError, clean_query
from apps.search.vectors import ZeroVector, blend

CHANNEL_LABELS = {CLIP: "CLIP image match", CAPTION: "caption meaning", FULL_TEXT: "caption words"}
MAX_CANDIDATES = 1000
NO_FILTERS = Filters()


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
    label: str  # what was searched, in words: the query, "q + add − sub", "image: chest.png"
    k: int
    page: int
    hits: list[SearchHit]
    total: int  # fused candidates available (bounded by MAX_CANDIDATES per channel)
    channels: list[str]  # channels that ran
    notices: list[str]  # one-line explanations, e.g. why a channel did not run
    filters: Filters = NO_FILTERS
    query: str = ""  # the text query, when there is one

    @property
    def has_next(self) -> bool:
        return self.page * self.k < self.total

    @property
    def first_rank(self) -> int:
        return (self.page - 1) * self.k + 1

    @property
    def last_rank(self) -> int:
        return self.first_rank + len(self.hits) - 1


# --- Channels ----------------------------------------------------------------------------------------


def _channels(notices: list[str]) -> dict[str, Channel]:
    """Embedding channels that can run now; for each that cannot, one line in `notices`."""
    channels = {}
    for name, config in configured_spaces().items():
        channel, reason = channel_for(config)
        if channel is not None:
            channels[name] = channel
        elif name == CLIP:
            notices.append(
                f"Image-space (CLIP) search is off: {reason.rstrip('.')}. Results come from caption search."
            )
        else:
            notices.append(reason)
    return channels


def _clip_channel() -> Channel:
    """The CLIP image space, or a clear error: image queries need it."""
    channel, reason = channel_for(configured_spaces()[CLIP])
    if channel is None:
        raise QueryError(
            f"Searching by image needs the CLIP model, which cannot be used here: {reason.rstrip('.')}. "
            "An administrator can install it with `manage.py models pull` and then run `manage.py embed`.",
            status=409,
        )
    return channel


def _depth(k: int, page: int) -> int:
    return min(MAX_CANDIDATES, page * k * 2 + 50)


def _page(
    *, label: str, query: str = "", k: int, page: int, filters: Filters, rankings: dict[str, Ranking], notices
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
        label=label,
        query=query,
        k=k,
        page=page,
        hits=hits,
        total=len(fused),
        channels=list(rankings),
        notices=notices,
        filters=filters,
    )


# --- The kinds of search -----------------------------------------------------------------------------


def text_search(
    *,
    query: str,
    k: int = 20,
    page: int = 1,
    filters: Filters = NO_FILTERS,
    user=None,
    require_file: bool = True,
) -> SearchResult:
    """Text → images: CLIP space + caption space + full text, fused by RRF, one page of k results."""
    query = clean_query(query)
    candidates = searchable_images(filters=filters, user=user, require_file=require_file)
    depth = _depth(k, page)
    notices: list[str] = []
    rankings: dict[str, Ranking] = {
        name: nearest_images(
            space=ch.space, vector=ch.encoder.encode_query(query), limit=depth, among=candidates
        )
        for name, ch in _channels(notices).items()
    }
    rankings[FULL_TEXT] = full_text_images(query=query, limit=depth, among=candidates)
    return _page(
        label=query, query=query, k=k, page=page, filters=filters, rankings=rankings, notices=notices
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
) -> SearchResult:
    """An uploaded image → similar images in the CLIP image space; with `text`, a composed query
    ("this image, but with contrast"): normalize((1 − w)·image + w·text), w = `text_weight`."""
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
    ranking = nearest_images(space=clip.space, vector=vector, limit=_depth(k, page), among=candidates)
    return _page(
        label=label, query=text, k=k, page=page, filters=filters, rankings={CLIP: ranking}, notices=[]
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
    channels = _channels(notices)
    for name in (CLIP, CAPTION):
        channel = channels.get(name)
        vector = stored_vector(space=channel.space, image_id=image.pk) if channel else None
        if vector is None:
            continue
        if name == CAPTION:
            notices = ["Image-space (CLIP) search is off here, so these are images with similar captions."]
        ranking = nearest_images(
            space=channel.space, vector=vector, limit=depth, among=candidates, exclude_id=image.pk
        )
        return _page(label=label, k=k, page=page, filters=filters, rankings={name: ranking}, notices=notices)
    raise QueryError("This image has no embedding yet; run `manage.py embed`.", status=409)


def arithmetic_search(
    *, terms: Arithmetic, k: int = 20, page: int = 1, filters: Filters = NO_FILTERS, user=None
) -> tuple[SearchResult, SearchResult]:
    """The paper's dual search: results for q, and for normalize(q + add − sub), side by side.

    Both sides use the same embedding channels (full text cannot subtract), so the difference
    between the columns is the arithmetic alone. Terms that cancel out are a `QueryError` (400).
    """
    candidates = searchable_images(filters=filters, user=user)
    depth = _depth(k, page)
    notices: list[str] = []
    channels = _channels(notices)
    if not channels:
        raise QueryError("Concept arithmetic needs an embedding space; run `manage.py embed`.", status=409)
    original, modified = {}, {}
    for name, ch in channels.items():
        combined = terms.vector(ch.encoder.encode_query)
        original[name] = nearest_images(
            space=ch.space, vector=ch.encoder.encode_query(terms.query), limit=depth, among=candidates
        )
        modified[name] = nearest_images(space=ch.space, vector=combined, limit=depth, among=candidates)
    common = {"k": k, "page": page, "filters": filters}
    return (
        _page(label=terms.query, query=terms.query, rankings=original, notices=notices, **common),
        _page(label=terms.label, query=terms.prompt, rankings=modified, notices=list(notices), **common),
    )
