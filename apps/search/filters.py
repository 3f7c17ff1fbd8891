"""Filters every kind of search accepts, and the SQL that applies them (with who may see what)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass

from apps.core.errors import UserError
from apps.corpus.licences import COMMERCIAL_USE, OPEN
from apps.corpus.modality import MODALITIES
from apps.corpus.models import Dataset, Image

LICENCE_CHOICES = {
    "any": "Any licence",
    "open": "Openly licensed only",
    "commercial": "Commercial use allowed",
}
ORIGIN_CHOICES = {"any": "Real and synthetic", "real": "Real images only", "synthetic": "Synthetic only"}


# What a Dataset slug can be; anything else (a NUL character, say) is not looked up.
_SLUG = re.compile(r"[-a-zA-Z0-9_]+")


class FilterError(UserError):
    """A filter value the user must change; the message is shown as it is."""


@dataclass(frozen=True)
class Filters:
    modality: str = ""  # a key of MODALITIES; "" = any
    licence: str = "any"  # a key of LICENCE_CHOICES
    dataset: str = ""  # a Dataset slug; "" = any
    origin: str = "any"  # a key of ORIGIN_CHOICES
    split: str = ""  # train / validation / test; used by the evaluation

    @classmethod
    def from_params(cls, params: Mapping[str, str], *, prefix: str = "") -> Filters:
        """Read filters from query parameters, refusing unknown values with a clear message."""

        def get(name: str, default: str) -> str:
            return (params.get(prefix + name) or default).strip()

        filters = cls(
            modality=get("modality", ""),
            licence=get("licence", "any"),
            dataset=get("dataset", ""),
            origin=get("origin", "any"),
        )
        if filters.modality and filters.modality not in MODALITIES:
            raise FilterError(
                f"Unknown modality {filters.modality!r}; choose one of {', '.join(MODALITIES)}."
            )
        if filters.licence not in LICENCE_CHOICES:
            raise FilterError(f"Unknown licence filter {filters.licence!r}; use any, open or commercial.")
        if filters.origin not in ORIGIN_CHOICES:
            raise FilterError(f"Unknown origin filter {filters.origin!r}; use any, real or synthetic.")
        if filters.dataset and not (
            _SLUG.fullmatch(filters.dataset) and Dataset.objects.filter(slug=filters.dataset).exists()
        ):
            raise FilterError(f"Unknown dataset {filters.dataset!r}.")
        return filters

    def as_params(self) -> dict[str, str]:
        """The non-default filters, for URLs (so a search can be bookmarked and shared)."""
        defaults = asdict(Filters())
        return {name: value for name, value in asdict(self).items() if value != defaults[name]}

    @property
    def active(self) -> bool:
        return bool(self.as_params())


@dataclass(frozen=True)
class Restriction:
    """SQL conditions on `corpus_image i`, with their parameters."""

    sql: str
    params: tuple


def restriction(*, filters: Filters, user=None, require_file: bool = True) -> Restriction:
    """What a search may return: the filters, plus the visibility rule of
    `apps.corpus.selectors.images_visible_to` (approved images, and the user's own)."""
    conditions: list[str] = []
    params: list[object] = []
    if user is not None and user.is_authenticated:
        conditions.append("(i.moderation_state = %s OR i.owner_id = %s)")
        params += [Image.APPROVED, user.pk]
    else:
        conditions.append("i.moderation_state = %s")
        params.append(Image.APPROVED)
    if require_file:
        conditions.append("i.file <> ''")
    if filters.modality:
        conditions.append("i.modality = %s")
        params.append(filters.modality)
    if filters.licence in ("open", "commercial"):
        allowed = sorted(OPEN if filters.licence == "open" else COMMERCIAL_USE)
        conditions.append("i.licence = ANY(%s)")
        params.append(allowed)
    if filters.dataset:
        conditions.append("i.dataset_id = (SELECT id FROM corpus_dataset WHERE slug = %s)")
        params.append(filters.dataset)
    if filters.origin != "any":
        conditions.append("i.is_synthetic = %s")
        params.append(filters.origin == "synthetic")
    if filters.split:
        conditions.append("i.split = %s")
        params.append(filters.split)
    return Restriction(sql=" AND ".join(conditions), params=tuple(params))
