"""Which embedding spaces the platform has, and which encoder each one uses (from settings)."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from apps.corpus.models import EmbeddingSpace
from apps.ml.specs import default_caption_model

CLIP = "clip"
CAPTION = "caption"


@dataclass(frozen=True)
class SpaceConfig:
    name: str
    model: str
    target: str  # EmbeddingSpace.IMAGE or EmbeddingSpace.CAPTION
    label: str


def configured_spaces() -> dict[str, SpaceConfig]:
    return {
        CLIP: SpaceConfig(CLIP, settings.MIRAGE_CLIP_MODEL, EmbeddingSpace.IMAGE, "CLIP image space"),
        CAPTION: SpaceConfig(
            CAPTION,
            settings.MIRAGE_CAPTION_MODEL or default_caption_model(),
            EmbeddingSpace.CAPTION,
            "caption space",
        ),
    }
