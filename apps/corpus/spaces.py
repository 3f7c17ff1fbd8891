"""Which embedding spaces the platform has, and which encoder each one uses (from settings)."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from apps.corpus.models import EmbeddingSpace
from apps.ml.encoders import ModelUnavailable, load_encoder
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


def query_encoders_warm() -> dict[str, str]:
    """Load every configured space's query encoder and run it once, so that a web process is ready
    before its first search (loading takes seconds; a student should never wait for it).

    Returns each space's name with "" when its encoder is ready, or why it is not."""
    ready: dict[str, str] = {}
    for name, config in configured_spaces().items():
        try:
            load_encoder(config.model).encode_texts(["chest x-ray"])
            ready[name] = ""
        except ModelUnavailable as exc:
            ready[name] = str(exc)
    return ready
