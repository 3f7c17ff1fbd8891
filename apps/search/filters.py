"""Filters every kind of search accepts, as `Q` objects on the images that the user may see."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass

from django.db.models import Q, QuerySet

from apps.core.errors import UserError
from apps.corpus.licences import COMMERCIAL_USE, OPEN
from apps.corpus.modality import MODALITIES
from apps.corpus.models import Dataset, Image
from apps.corpus.selectors import images_visible_to
from apps.search.rankings import RANKINGS

LICENCE_CHOICES = {
    "any": "Any licence",
    "open": "Openly licensed only",
    "commercial": "Commercial use allowed",
}
ORIGIN_CHOICES = {"any": "Real and synthetic", "real": "Real images only", "synthetic": "Synthetic only"}


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
    def from_params(cls, params: Mapping[str, str]) -> Filters:
        """Read filters from query parameters, refusing unknown values with a clear message."""

        def get(name: str, default: str) -> str:
            # A NUL cannot reach PostgreSQL; such a value is unknown like any other misspelling.
            return str(params.get(name) or default).strip().replace("\x00", "\ufffd")

        filters = cls(
            modality=get("modality", ""),
            licence=get("licence", "any"),
            dataset=get("dataset", ""),
            origin=get("origin", "any"),
        )
        if filters.modality and filters.modality not in MODALITIES:
            raise FilterError(
                f"Unknown modality {filters.modality!r}; choose one of {', '.join(MODALITIES)}.",
                field="modality",
            )
        if filters.licence not in LICENCE_CHOICES:
            raise FilterError(
                f"Unknown licence filter {filters.licence!r}; use any, open or commercial.", field="licence"
            )
        if filters.origin not in ORIGIN_CHOICES:
            raise FilterError(
                f"Unknown origin filter {filters.origin!r}; use any, real or synthetic.", field="origin"
            )
        if filters.dataset and not Dataset.objects.filter(slug=filters.dataset).exists():
            raise FilterError(f"Unknown dataset {filters.dataset!r}.", field="dataset")
        return filters

    def as_params(self) -> dict[str, str]:
        """The non-default filters, for URLs (so a search can be bookmarked and shared)."""
        defaults = asdict(Filters())
        return {name: value for name, value in asdict(self).items() if value != defaults[name]}

    @property
    def active(self) -> bool:
        return bool(self.as_params())

    def q(self) -> Q:
        """The filters as a condition on `Image`."""
        condition = Q()
        if self.modality:
            condition &= Q(modality=self.modality)
        if self.licence in ("open", "commercial"):
            condition &= Q(licence__in=sorted(OPEN if self.licence == "open" else COMMERCIAL_USE))
        if self.dataset:
            condition &= Q(dataset__slug=self.dataset)
        if self.origin != "any":
            condition &= Q(is_synthetic=self.origin == "synthetic")
        if self.split:
            condition &= Q(split=self.split)
        return condition


def filter_choices() -> dict[str, object]:
    """Everything the filter controls offer, for the search and comparison pages."""
    return {
        "modalities": MODALITIES,
        "licences": LICENCE_CHOICES,
        "origins": ORIGIN_CHOICES,
        "rankings": RANKINGS,
        "datasets": list(Dataset.objects.order_by("name").values_list("slug", "name")),
    }


def searchable_images(*, filters: Filters, user=None, require_file: bool = True) -> QuerySet[Image]:
    """What a search may return: the images `user` may see (`images_visible_to`, the one visibility
    rule), narrowed by the filters; entries without an image file are left out unless asked for."""
    images = images_visible_to(user).filter(filters.q())
    return images.exclude(file="") if require_file else images
