"""Text and image encoders behind one interface, each loaded once per process from a model spec.

A spec is what a setting holds:
- `hf-hub:org/name`: an open_clip model on the Hugging Face hub (the hub's cache, or a download);
- a local folder (optionally written `local-dir:/path`): open_clip (`open_clip_config.json`),
  sentence-transformers (`modules.json`) or transformers CLIP (`config.json` with model_type "clip");
- a bare hub id `org/name`: the same folder formats, taken from the hub cache only.

torch, open_clip and transformers are imported inside functions so that importing this module is cheap.
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from apps.ml.cache import ModelCache
from apps.ml.device import pick_device, pick_dtype
from apps.ml.specs import (
    HF_HUB_PREFIX,
    LOCAL_DIR_PREFIX,
    ModelUnavailable,
    model_folder,
    not_cached,
    short_name,
)

if TYPE_CHECKING:
    import torch
    from PIL import Image

BATCH_SIZE = 32
QUERY_CACHE_SIZE = 1024


class Encoder:
    """Maps texts (and, for CLIP models, images) to L2-normalised float32 vectors of `dim` numbers."""

    kind: str
    supports_images: bool

    def __init__(self, spec: str, *, device: str, dim: int) -> None:
        self.spec = spec
        self.device = device
        self.dim = dim
        # Fast tokenizers raise "Already borrowed" when two threads use them at once, and one model
        # already uses every core, so calls into the model take turns.
        self._lock = threading.Lock()
        self._query_cache = functools.lru_cache(maxsize=QUERY_CACHE_SIZE)(self._encode_query_uncached)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {short_name(self.spec)} dim={self.dim} on {self.device}>"

    def encode_texts(self, texts: list[str]) -> np.ndarray:
        """(len(texts), dim) float32 rows of unit length; text past the model's context is cut off."""
        return self._encode(self._encode_text_batch, list(texts))

    def encode_images(self, images: list[Image.Image]) -> np.ndarray:
        """(len(images), dim) float32 rows of unit length."""
        if not self.supports_images:
            raise ValueError(f"{short_name(self.spec)} encodes text only; it cannot encode images")
        transform = self.image_transform()
        return self._encode(lambda batch: self._encode_pixel_batch(_stack(transform, batch)), list(images))

    def image_transform(self) -> Callable[[Image.Image], torch.Tensor]:
        """The model's preprocessing of one picture into a pixel tensor: a picklable callable, so data
        loader worker processes can run it (bulk embedding decodes and resizes off the model's thread)."""
        raise ValueError(f"{short_name(self.spec)} encodes text only; it cannot encode images")

    def encode_pixels(self, pixels: torch.Tensor) -> np.ndarray:
        """(n, dim) float32 unit rows for a (n, 3, H, W) batch made by `image_transform`."""
        return self._encode(lambda batch: self._encode_pixel_batch(batch[0]), [pixels])

    def encode_query(self, text: str) -> np.ndarray:
        """One text as a (dim,) vector, remembered: students repeat the same queries."""
        return self._query_cache(text)

    def query_cache_info(self) -> functools._CacheInfo:
        return self._query_cache.cache_info()

    def _encode_query_uncached(self, text: str) -> np.ndarray:
        vector = self.encode_texts([text])[0]
        # The cached array is handed to every caller; nobody may change it in place.
        vector.flags.writeable = False
        return vector

    def _encode(self, encode_batch: Callable[[list], torch.Tensor], items: list) -> np.ndarray:
        import torch

        if not items:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock, torch.inference_mode():
            batches = [
                encode_batch(items[start : start + BATCH_SIZE]).float().cpu()
                for start in range(0, len(items), BATCH_SIZE)
            ]
        vectors = torch.cat(batches).numpy()
        # Normalised here, in float32, rather than in the model's (maybe half) precision.
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return (vectors / np.maximum(norms, 1e-12)).astype(np.float32, copy=False)

    def _encode_text_batch(self, texts: list[str]) -> torch.Tensor:
        raise NotImplementedError

    def _encode_pixel_batch(self, pixels: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError


def _stack(transform: Callable[[Image.Image], torch.Tensor], images: list[Image.Image]) -> torch.Tensor:
    import torch

    return torch.stack([transform(image) for image in images])


class _RGB:
    """A picture in three channels, then the model's own transform (medical images are often grey)."""

    def __init__(self, transform: Callable) -> None:
        self.transform = transform

    def __call__(self, image: Image.Image) -> torch.Tensor:
        return self.transform(image.convert("RGB"))


class _HFPixels:
    """A transformers image processor as a one-picture transform."""

    def __init__(self, processor) -> None:
        self.processor = processor

    def __call__(self, image: Image.Image) -> torch.Tensor:
        return self.processor(images=[image.convert("RGB")], return_tensors="pt")["pixel_values"][0]


class OpenClipEncoder(Encoder):
    kind = "open_clip"
    supports_images = True

    def __init__(self, spec: str, open_clip_name: str) -> None:
        import open_clip
        import torch

        device = pick_device()
        self._dtype = pick_dtype(device)
        precision = {torch.float16: "fp16", torch.bfloat16: "bf16"}.get(self._dtype, "fp32")
        # create_model_from_pretrained, not create_model_and_transforms: the latter logs a warning and
        # carries on with random weights when the weights file is missing.
        model, self._preprocess = open_clip.create_model_from_pretrained(
            open_clip_name, device=device, precision=precision
        )
        self._model = model.eval()
        self._tokenizer = open_clip.get_tokenizer(open_clip_name)
        # The output width is asked of the model: configs name it differently across architectures.
        with torch.inference_mode():
            dim = model.encode_text(self._tokenizer([""]).to(device)).shape[-1]
        super().__init__(spec, device=device, dim=dim)

    def _encode_text_batch(self, texts: list[str]) -> torch.Tensor:
        return self._model.encode_text(self._tokenizer(texts).to(self.device))

    def image_transform(self) -> Callable[[Image.Image], torch.Tensor]:
        return _RGB(self._preprocess)

    def _encode_pixel_batch(self, pixels: torch.Tensor) -> torch.Tensor:
        return self._model.encode_image(pixels.to(self.device, self._dtype))


class HFClipEncoder(Encoder):
    """A transformers CLIPModel folder, e.g. PubMedCLIP."""

    kind = "transformers-clip"
    supports_images = True

    def __init__(self, spec: str, path: Path) -> None:
        from transformers import CLIPModel, CLIPProcessor

        device = pick_device()
        self._dtype = pick_dtype(device)
        model = CLIPModel.from_pretrained(path, dtype=self._dtype, local_files_only=True)
        self._model = model.to(device).eval()
        processor = CLIPProcessor.from_pretrained(path, local_files_only=True)
        self._tokenizer = processor.tokenizer
        self._image_processor = processor.image_processor
        # The model's own context, not tokenizer.model_max_length, which some repositories leave unset.
        self._max_length = model.config.text_config.max_position_embeddings
        super().__init__(spec, device=device, dim=model.config.projection_dim)

    def _encode_text_batch(self, texts: list[str]) -> torch.Tensor:
        tokens = self._tokenizer(
            texts, padding=True, truncation=True, max_length=self._max_length, return_tensors="pt"
        ).to(self.device)
        return self._model.get_text_features(**tokens).pooler_output

    def image_transform(self) -> Callable[[Image.Image], torch.Tensor]:
        return _HFPixels(self._image_processor)

    def _encode_pixel_batch(self, pixels: torch.Tensor) -> torch.Tensor:
        return self._model.get_image_features(pixel_values=pixels.to(self.device, self._dtype)).pooler_output


class SentenceTransformerEncoder(Encoder):
    """A sentence-transformers folder (all-MiniLM-L6-v2 for captions); text only."""

    kind = "sentence-transformers"
    supports_images = False

    def __init__(self, spec: str, path: Path) -> None:
        import torch
        from sentence_transformers import SentenceTransformer

        device = pick_device()
        model = SentenceTransformer(str(path), device=device, local_files_only=True)
        dtype = pick_dtype(device)
        if dtype != torch.float32:
            model = model.to(dtype)
        self._model = model.eval()
        super().__init__(spec, device=device, dim=model.get_embedding_dimension())

    def _encode_text_batch(self, texts: list[str]) -> torch.Tensor:
        # The model truncates at its max_seq_length (256 word pieces for MiniLM).
        return self._model.encode(
            texts, batch_size=BATCH_SIZE, convert_to_tensor=True, show_progress_bar=False
        )


def _load_folder(spec: str, path: Path, *, hub_id: str | None = None) -> Encoder:
    if (path / "open_clip_config.json").is_file():
        # A hub repository goes through open_clip's hub path, which also finds a separate HF tokenizer
        # (BiomedCLIP's); `local-dir:` would look for the tokenizer inside the folder.
        return OpenClipEncoder(spec, f"{HF_HUB_PREFIX}{hub_id}" if hub_id else f"{LOCAL_DIR_PREFIX}{path}")
    if (path / "modules.json").is_file():
        return SentenceTransformerEncoder(spec, path)
    config = path / "config.json"
    if config.is_file() and json.loads(config.read_text()).get("model_type") == "clip":
        return HFClipEncoder(spec, path)
    raise ModelUnavailable(
        spec,
        f"{spec} holds no model format MIRAGE can load: it needs open_clip_config.json (open_clip), "
        "modules.json (sentence-transformers) or a config.json with model_type 'clip' (transformers)",
    )


def _load_hf_hub(spec: str) -> Encoder:
    from huggingface_hub import constants, try_to_load_from_cache

    # Offline, open_clip's own error is a long chain; a cache miss is known before it is called.
    if constants.is_offline_mode():
        cached = try_to_load_from_cache(spec.removeprefix(HF_HUB_PREFIX), "open_clip_config.json")
        if not isinstance(cached, str):
            raise not_cached(spec)
    return OpenClipEncoder(spec, spec)


def _load(spec: str) -> Encoder:
    if spec.startswith(HF_HUB_PREFIX):
        return _load_hf_hub(spec)
    # Bare hub ids come from the cache only; downloading is `models pull`'s job, not a web request's.
    own_folder = Path(spec.removeprefix(LOCAL_DIR_PREFIX)).expanduser().is_dir()
    return _load_folder(spec, model_folder(spec), hub_id=None if own_folder else spec)


_encoders: ModelCache[Encoder] = ModelCache(_load)


def loaded_encoders() -> list[str]:
    """The encoder specs this process has loaded."""
    return _encoders.loaded()


def load_encoder(spec: str) -> Encoder:
    """The encoder for `spec`, loaded on first use and shared by the whole process.

    Raises ModelUnavailable, never substitutes another model.
    """
    return _encoders.get(spec)


@dataclass(frozen=True)
class EncoderStatus:
    spec: str
    ok: bool
    dim: int | None = None
    kind: str | None = None
    supports_images: bool | None = None
    error: str | None = None


def check_encoder(spec: str) -> EncoderStatus:
    """Load `spec` and say whether it works, for `manage.py models check`."""
    try:
        encoder = load_encoder(spec)
    except ModelUnavailable as exc:
        return EncoderStatus(spec=spec, ok=False, error=str(exc))
    return EncoderStatus(
        spec=spec, ok=True, dim=encoder.dim, kind=encoder.kind, supports_images=encoder.supports_images
    )
