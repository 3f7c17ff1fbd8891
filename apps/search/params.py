"""Reading what a user sent to a search: the rules that pages and the API both apply.

Each kind of search has one parser here that turns request parameters (a page's `request.GET`, or
what an API serializer receives) into the keyword arguments of its selector, or raises a
`QueryError` with the message to show. The pages call the parsers directly; the API's parameter
serializers (`apps.search.serializers.ParamsSerializer`) validate by calling the same parsers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from PIL import Image as PILImage

from apps.core.errors import UserError
from apps.corpus import imaging
from apps.search.filters import FilterError, Filters
from apps.search.rankings import FUSED, PAPER, RANKINGS, RERANKED  # noqa: F401  (re-exported)
from apps.search.vectors import ZeroVector, concept_vector

MAX_K = 100
MAX_PAGE = 30
MAX_WEIGHT = 2.0


class QueryError(UserError):
    """A query the user must change; the message is shown as it is, with `status` as the HTTP code."""


# --- One value ---------------------------------------------------------------------------------------


def clean_query(text: str | None, *, what: str = "query", field: str | None = None) -> str:
    if not isinstance(text, str | None):  # e.g. a file sent under a text field's name
        raise QueryError(f"The {what} must be text.", field=field)
    # Control characters (a NUL above all, which PostgreSQL text cannot hold) are spaces here.
    text = " ".join("".join(c if c.isprintable() else " " for c in text or "").split())
    if not text:
        raise QueryError("Type what you are looking for, e.g. “chest X-ray with pneumothorax”.", field=field)
    limit = settings.MIRAGE_MAX_QUERY_CHARS
    if len(text) > limit:
        raise QueryError(
            f"The {what} is {len(text)} characters long; the limit is {limit}. "
            "Shorten it to the findings that matter.",
            field=field,
        )
    return text


def clean_optional_text(text: str | None, *, what: str, field: str | None = None) -> str:
    return clean_query(text, what=what, field=field) if text and str(text).strip() else ""


def clean_k(value: object, default: int = 20) -> int:
    try:
        k = int(value) if value not in (None, "") else default
    except (TypeError, ValueError):
        raise QueryError(
            f"The number of results must be a whole number from 1 to {MAX_K}.", field="k"
        ) from None
    if not 1 <= k <= MAX_K:
        raise QueryError(f"The number of results must be from 1 to {MAX_K}.", field="k")
    return k


def clean_page(value: object) -> int:
    try:
        page = int(value) if value not in (None, "") else 1
    except (TypeError, ValueError):
        raise QueryError("The page must be a whole number.", field="page") from None
    if not 1 <= page <= MAX_PAGE:
        raise QueryError(f"The page must be from 1 to {MAX_PAGE}.", field="page")
    return page


def clean_weight(
    value: object, *, default: float, high: float = MAX_WEIGHT, what: str, field: str | None = None
) -> float:
    try:
        weight = float(value) if value not in (None, "") else default
    except (TypeError, ValueError):
        raise QueryError(f"The {what} must be a number.", field=field) from None
    if not 0.0 <= weight <= high:  # also refuses nan and inf
        raise QueryError(f"The {what} must be from 0 to {high:g}.", field=field)
    return weight


def clean_ranking(value: object) -> str:
    """How results are ordered (RANKINGS); the same choice on the search and comparison pages and API."""
    ranking = value if value not in (None, "") else FUSED
    if ranking not in RANKINGS:
        raise QueryError(f"The ranking must be one of: {', '.join(RANKINGS)}.", field="ranking")
    return ranking


def ranking_params(data: Mapping) -> dict:
    """ranking and, for the re-ranked order, an optional description → the ranking arguments of
    `text_search` and `arithmetic_search`."""
    ranking = clean_ranking(data.get("ranking"))
    description = clean_optional_text(data.get("description"), what="description", field="description")
    if description and ranking != RERANKED:
        raise QueryError("A description is used only with the re-ranked ordering.", field="description")
    return {"ranking": ranking, "description": description}


def clean_filters(params: Mapping) -> Filters:
    try:
        return Filters.from_params(params)
    except FilterError as exc:
        raise QueryError(str(exc), field=exc.field) from exc


def picture_from_upload(*, data: bytes, name: str) -> PILImage.Image:
    """An uploaded query image (PNG, JPEG or DICOM), checked; never stored.

    DICOM is de-identified in memory on the way (apps.corpus.imaging) and only pixels are kept;
    a picture over MIRAGE_MAX_QUERY_PIXELS is refused before it is decoded.
    """
    limit = settings.MIRAGE_MAX_UPLOAD_BYTES
    if len(data) > limit:
        raise QueryError(
            f"{name} is {len(data) / 2**20:.1f} MB; images up to {limit // 2**20} MB are accepted.",
            status=413,
            field="image",
        )
    if not data:
        raise QueryError(f"{name} is empty.", field="image")
    try:
        return imaging.open_image_bytes(data, name=name, max_pixels=settings.MIRAGE_MAX_QUERY_PIXELS)
    except imaging.ImageError as exc:
        raise QueryError(str(exc), status=400, field="image") from exc


# --- Concept arithmetic ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Arithmetic:
    """The terms of the paper's dual search: normalize(wq·q + wa·add − ws·sub)."""

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

    def vector(self, encode: Callable[[str], np.ndarray]) -> np.ndarray:
        """The combined query vector; a `QueryError` (400) when the weighted terms cancel out."""
        try:
            return concept_vector(
                encode(self.query),
                add=encode(self.add) if self.add else None,
                sub=encode(self.sub) if self.sub else None,
                query_weight=self.query_weight,
                add_weight=self.add_weight,
                sub_weight=self.sub_weight,
            )
        except ZeroVector:
            raise QueryError(
                f"“{self.label}” adds up to nothing: the weighted terms cancel out. "
                "Give the query a weight above 0, or subtract something other than the query."
            ) from None


# --- One parser per kind of search -------------------------------------------------------------------


def text_search_params(data: Mapping) -> dict:
    """q, k, page and the filters → the arguments of `text_search`."""
    return {
        "query": clean_query(data.get("q"), field="q"),
        "k": clean_k(data.get("k")),
        "page": clean_page(data.get("page")),
        "filters": clean_filters(data),
        **ranking_params(data),
    }


def similar_params(data: Mapping) -> dict:
    """k, page and the filters → the arguments of `similar_search` (the image comes from the URL)."""
    return {"k": clean_k(data.get("k")), "page": clean_page(data.get("page")), "filters": clean_filters(data)}


def uploaded_picture(data: Mapping, *, purpose: str) -> tuple[PILImage.Image, str]:
    """The uploaded `image` of a form or request body, checked (`picture_from_upload`), and its label
    ("image NAME"); `purpose` finishes the sentence asking for one when there is none."""
    upload = data.get("image")
    if not hasattr(upload, "read"):
        raise QueryError(f"Choose an image file (PNG, JPEG or DICOM) {purpose}.", field="image")
    name = getattr(upload, "name", None) or "upload"
    return picture_from_upload(data=upload.read(), name=name), f"image {name}"


def picture_search_params(data: Mapping) -> dict:
    """An uploaded `image`, optional words (`text`, `weight`), k and the filters → the arguments of
    `picture_search`. `data` holds the upload too (DRF's `request.data`; pages merge POST and FILES)."""
    picture, label = uploaded_picture(data, purpose="to search with")
    text = clean_optional_text(data.get("text"), what="modifier", field="text")
    return {
        "picture": picture,
        "label": label,
        "text": text,
        "text_weight": clean_weight(
            data.get("weight"), default=0.5, high=1.0, what="text weight", field="weight"
        ),
        "k": clean_k(data.get("k")),
        "filters": clean_filters(data),
        **ranking_params(data),
    }


def arithmetic_params(data: Mapping, *, default_k: int = 20) -> dict:
    """q, add, sub, their weights (wq, wadd, wsub), k and the filters → the arguments of
    `arithmetic_search`."""
    terms = Arithmetic(
        query=clean_query(data.get("q"), field="q"),
        add=clean_optional_text(data.get("add"), what="added concept", field="add"),
        sub=clean_optional_text(data.get("sub"), what="subtracted concept", field="sub"),
        query_weight=clean_weight(data.get("wq"), default=1.0, what="query weight", field="wq"),
        add_weight=clean_weight(
            data.get("wadd"), default=1.0, what="weight of the added concept", field="wadd"
        ),
        sub_weight=clean_weight(
            data.get("wsub"), default=1.0, what="weight of the subtracted term", field="wsub"
        ),
    )
    return {
        "terms": terms,
        "k": clean_k(data.get("k"), default=default_k),
        "filters": clean_filters(data),
        **ranking_params(data),
    }
