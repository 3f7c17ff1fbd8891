"""Reads for search: text, image, "more like this", concept arithmetic and composed queries.

Every kind ends in the same place: ranked lists from the channels that can run (the CLIP image
space, the caption space, full text), fused by reciprocal rank, filtered and cut into pages.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from django.conf import settings
from PIL import Image as PILImage

from apps.core.errors import UserError
from apps.corpus import imaging
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
from apps.search.filters import FilterError, Filters, restriction
from apps.search.vectors import blend, concept_vector

CHANNEL_LABELS = {CLIP: "CLIP image match", CAPTION: "caption meaning", FULL_TEXT: "caption words"}
MAX_K = 100
MAX_CANDIDATES = 1000
MAX_PAGE = 30
NO_FILTERS = Filters()


class QueryError(UserError):
    """A query the user must change; the message is shown as it is, with `status` as the HTTP code."""


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


# --- Checking what the user typed ------------------------------------------------------------------


def clean_query(text: str | None, *, what: str = "query") -> str:
    # Control characters (NUL above all, which PostgreSQL text cannot hold) count as spaces.
    text = "".join(" " if unicodedata.category(ch) == "Cc" else ch for ch in text or "")
    text = " ".join(text.split())
    if not text:
        raise QueryError("Type what you are looking for, e.g. “chest X-ray with pneumothorax”.")
    limit = settings.MIRAGE_MAX_QUERY_CHARS
    if len(text) > limit:
        raise QueryError(
            f"The {what} is {len(text)} characters long; the limit is {limit}. "
            "Shorten it to the findings that matter."
        )
    return text


def clean_optional_text(text: str | None, *, what: str) -> str:
    return clean_query(text, what=what) if (text or "").strip() else ""


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
    if not 1 <= page <= MAX_PAGE:
        raise QueryError(f"The page must be from 1 to {MAX_PAGE}.")
    return page


def clean_weight(value: object, *, default: float, low: float = 0.0, high: float = 2.0, what: str) -> float:
    try:
        weight = float(value) if value not in (None, "") else default
    except (TypeError, ValueError):
        raise QueryError(f"The {what} must be a number.") from None
    if not low <= weight <= high:
        raise QueryError(f"The {what} must be from {low:g} to {high:g}.")
    return weight


def clean_filters(params, *, prefix: str = "") -> Filters:
    try:
        return Filters.from_params(params, prefix=prefix)
    except FilterError as exc:
        raise QueryError(str(exc)) from exc


def picture_from_upload(*, data: bytes, name: str) -> PILImage.Image:
    """An uploaded query image (PNG, JPEG or DICOM), checked; never stored.

    DICOM is de-identified in memory on the way (apps.corpus.imaging) and only pixels are kept.
    """
    limit = settings.MIRAGE_MAX_UPLOAD_BYTES
    if len(data) > limit:
        raise QueryError(
            f"{name} is {len(data) / 2**20:.1f} MB; images up to {limit // 2**20} MB are accepted.",
            status=413,
        )
    if not data:
        raise QueryError(f"{name} is empty.")
    try:
        return imaging.open_image_bytes(data, name=name)
    except imaging.ImageError as exc:
        raise QueryError(str(exc), status=400) from exc


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


def image_search(
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
    where = restriction(filters=filters, user=user, require_file=require_file)
    depth = _depth(k, page)
    notices: list[str] = []
    rankings: dict[str, Ranking] = {
        name: nearest_images(space=ch.space, vector=ch.encoder.encode_query(query), limit=depth, where=where)
        for name, ch in _channels(notices).items()
    }
    rankings[FULL_TEXT] = full_text_images(query=query, limit=depth, where=where)
    return _page(
        label=query, query=query, k=k, page=page, filters=filters, rankings=rankings, notices=notices
    )


def image_search_by_picture(
    *,
    picture: PILImage.Image,
    label: str,
    k: int = 20,
    page: int = 1,
    filters: Filters = NO_FILTERS,
    user=None,
) -> SearchResult:
    """An uploaded image → similar images in the CLIP image space."""
    clip = _clip_channel()
    vector = clip.encoder.encode_images([picture])[0]
    where = restriction(filters=filters, user=user)
    ranking = nearest_images(space=clip.space, vector=vector, limit=_depth(k, page), where=where)
    return _page(label=label, k=k, page=page, filters=filters, rankings={CLIP: ranking}, notices=[])


def image_search_similar(
    *, image: Image, k: int = 20, page: int = 1, filters: Filters = NO_FILTERS, user=None
) -> SearchResult:
    """ "More like this": neighbours of a stored image in the CLIP space.

    Without a CLIP space, the fallback is labelled: images whose captions mean the same.
    """
    where = restriction(filters=filters, user=user)
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
            space=channel.space, vector=vector, limit=depth, where=where, exclude_id=image.pk
        )
        return _page(label=label, k=k, page=page, filters=filters, rankings={name: ranking}, notices=notices)
    raise QueryError("This image has no embedding yet; run `manage.py embed`.", status=409)


@dataclass(frozen=True)
class Arithmetic:
    query: str
    add: str = ""
    sub: str = ""
    query_weight: float = 1.0
    add_weight: float = 1.0
    sub_weight: float = 1.0

    @property
    def label(self) -> str:
        def term(weight: float, text: str) -> str:
            return text if weight == 1.0 else f"{weight:g}×{text}"

        out = term(self.query_weight, self.query)
        if self.add:
            out += f" + {term(self.add_weight, self.add)}"
        if self.sub:
            out += f" − {term(self.sub_weight, self.sub)}"
        return out

    @property
    def prompt(self) -> str:
        """What the paper's demo generates from: the query and the added concept."""
        return f"{self.query} {self.add}".strip()

    @classmethod
    def from_params(cls, params) -> Arithmetic:
        """The terms and weights as a page or the API receives them (q, add, sub, wq, wadd, wsub)."""
        return cls(
            query=clean_query(params.get("q")),
            add=clean_optional_text(params.get("add"), what="added concept"),
            sub=clean_optional_text(params.get("sub"), what="subtracted concept"),
            query_weight=clean_weight(params.get("wq"), default=1.0, what="query weight"),
            add_weight=clean_weight(params.get("wadd"), default=1.0, what="weight of the added concept"),
            sub_weight=clean_weight(params.get("wsub"), default=1.0, what="weight of the subtracted term"),
        )

    def vector(self, encode: Callable[[str], np.ndarray]) -> np.ndarray:
        return concept_vector(
            encode(self.query),
            add=encode(self.add) if self.add else None,
            sub=encode(self.sub) if self.sub else None,
            query_weight=self.query_weight,
            add_weight=self.add_weight,
            sub_weight=self.sub_weight,
        )


def arithmetic_search(
    *, terms: Arithmetic, k: int = 20, page: int = 1, filters: Filters = NO_FILTERS, user=None
) -> tuple[SearchResult, SearchResult]:
    """The paper's dual search: results for q, and for normalize(q + add − sub), side by side.

    Both sides use the same embedding channels (full text cannot subtract), so the difference
    between the columns is the arithmetic alone.
    """
    where = restriction(filters=filters, user=user)
    depth = _depth(k, page)
    notices: list[str] = []
    channels = _channels(notices)
    if not channels:
        raise QueryError("Concept arithmetic needs an embedding space; run `manage.py embed`.", status=409)
    original, modified = {}, {}
    for name, ch in channels.items():
        original[name] = nearest_images(
            space=ch.space, vector=ch.encoder.encode_query(terms.query), limit=depth, where=where
        )
        modified[name] = nearest_images(
            space=ch.space, vector=terms.vector(ch.encoder.encode_query), limit=depth, where=where
        )
    common = {"k": k, "page": page, "filters": filters}
    return (
        _page(label=terms.query, query=terms.query, rankings=original, notices=notices, **common),
        _page(label=terms.label, query=terms.prompt, rankings=modified, notices=list(notices), **common),
    )


def composed_search(
    *,
    picture: PILImage.Image,
    text: str,
    text_weight: float = 0.5,
    label: str,
    k: int = 20,
    page: int = 1,
    filters: Filters = NO_FILTERS,
    user=None,
) -> SearchResult:
    """An image plus a text modifier ("this image, but with contrast"), blended in the CLIP space."""
    text = clean_query(text, what="modifier")
    clip = _clip_channel()
    vector = blend(
        clip.encoder.encode_images([picture])[0], clip.encoder.encode_query(text), text_weight=text_weight
    )
    where = restriction(filters=filters, user=user)
    ranking = nearest_images(space=clip.space, vector=vector, limit=_depth(k, page), where=where)
    return _page(
        label=f"{label} + “{text}” (text weight {text_weight:g})",
        query=text,
        k=k,
        page=page,
        filters=filters,
        rankings={CLIP: ranking},
        notices=[],
    )


def picture_search(
    *,
    picture: PILImage.Image,
    label: str,
    text: str = "",
    weight: object = None,
    k: int = 20,
    filters: Filters = NO_FILTERS,
    user=None,
) -> SearchResult:
    """An uploaded image alone, or with words (a composed query) when `text` is given."""
    common = {"picture": picture, "label": label, "k": k, "filters": filters, "user": user}
    text = (text or "").strip()
    if not text:
        return image_search_by_picture(**common)
    text_weight = clean_weight(weight, default=0.5, high=1.0, what="text weight")
    return composed_search(text=text, text_weight=text_weight, **common)
