"""Text-to-image with a Stable Diffusion pipeline (diffusers), loaded once per process and kept.

A spec is what `MIRAGE_DIFFUSION_MODEL` holds: a diffusers pipeline folder (`model_index.json`) or a
hub id taken from the local cache only (`manage.py models pull` downloads). The same pipeline serves
both modes: fast = an LCM-LoRA adapter (`MIRAGE_DIFFUSION_LORA`) with `LCMScheduler`, as the paper's
demo; quality = the pipeline's own scheduler with the adapter switched off.

Only the worker process loads this; torch and diffusers are imported inside functions.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from apps.ml.cache import ModelCache
from apps.ml.device import pick_device, pick_dtype
from apps.ml.specs import PULL_HINT, ModelUnavailable, model_folder

if TYPE_CHECKING:
    from PIL import Image

LCM_ADAPTER = "lcm"


@dataclass(frozen=True)
class FittedPrompt:
    text: str  # what the text encoder is given: whole words that fit its context
    truncated: bool


@dataclass(frozen=True)
class ImageRequest:
    prompt: str
    negative_prompt: str
    steps: int
    guidance: float
    seed: int  # image i of the batch uses seed + i, so each image can be made again on its own
    count: int
    lcm_lora: str | None  # an LCM-LoRA spec for fast mode; None = the pipeline's own scheduler


class Generator:
    """One Stable Diffusion pipeline on one device. Calls take turns: a pipeline holds per-call state."""

    def __init__(self, spec: str) -> None:
        import torch
        from diffusers import LCMScheduler, StableDiffusionPipeline

        folder = model_folder(spec, marker="model_index.json")
        self.spec = spec
        self.device = pick_device()
        self.dtype = pick_dtype(self.device)
        # The NSFW checker is left out on purpose: it blanks anatomy as false positives, and no generated
        # image is shown to anyone but its author before a moderator approves it.
        pipe = StableDiffusionPipeline.from_pretrained(
            folder,
            dtype=self.dtype,
            safety_checker=None,
            requires_safety_checker=False,
            local_files_only=True,
        )
        pipe.set_progress_bar_config(disable=True)
        self._pipe = pipe.to(self.device)
        self._default_scheduler = pipe.scheduler
        self._lcm_scheduler = LCMScheduler.from_config(pipe.scheduler.config)
        self._lora: str | None = None  # the LCM-LoRA spec loaded as adapter LCM_ADAPTER
        self._lock = threading.Lock()
        self.size = pipe.unet.config.sample_size * pipe.vae_scale_factor  # 512 for SD-1.x
        self.max_prompt_tokens = pipe.tokenizer.model_max_length  # 77 for CLIP
        self._torch = torch

    def __repr__(self) -> str:
        return f"<Generator {self.spec} {self.size}px on {self.device}>"

    def fit_prompt(self, text: str) -> FittedPrompt:
        """The longest run of whole words that fits the text encoder's context (77 CLIP tokens).

        The pipeline would cut the token list silently; cutting here, at a word, lets the page show
        exactly what was kept.
        """
        words = text.split()
        if self._token_count(" ".join(words)) <= self.max_prompt_tokens:
            return FittedPrompt(text=text, truncated=False)
        low, high = 0, len(words)  # words[:low] fits, words[:high] does not
        while high - low > 1:
            middle = (low + high) // 2
            if self._token_count(" ".join(words[:middle])) <= self.max_prompt_tokens:
                low = middle
            else:
                high = middle
        return FittedPrompt(text=" ".join(words[:low]), truncated=True)

    def _token_count(self, text: str) -> int:
        return len(self._pipe.tokenizer(text, truncation=False)["input_ids"])

    def generate(
        self, request: ImageRequest, *, on_step: Callable[[int, int], None] | None = None
    ) -> list[Image.Image]:
        """`request.count` images of `self.size` pixels square. `on_step(i, n)` is called after each
        denoising step; an exception it raises (a cancelled job) stops the run."""
        torch = self._torch

        def step_end(pipe, step: int, timestep, tensors: dict) -> dict:
            if on_step is not None:
                on_step(step + 1, pipe.num_timesteps)
            return tensors

        with self._lock, torch.inference_mode():
            self._select_mode(request.lcm_lora)
            # CPU generators: the same seed gives the same image on any device.
            generators = [torch.Generator("cpu").manual_seed(request.seed + i) for i in range(request.count)]
            output = self._pipe(
                prompt=request.prompt,
                negative_prompt=request.negative_prompt or None,
                num_inference_steps=request.steps,
                guidance_scale=request.guidance,
                num_images_per_prompt=request.count,
                generator=generators,
                height=self.size,
                width=self.size,
                callback_on_step_end=step_end,
                output_type="pil",
            )
        return list(output.images)

    def _select_mode(self, lcm_lora: str | None) -> None:
        if lcm_lora is None:
            if self._lora is not None:
                self._pipe.disable_lora()
            self._pipe.scheduler = self._default_scheduler
            return
        if self._lora != lcm_lora:
            folder = model_folder(lcm_lora)
            if self._lora is not None:
                self._pipe.delete_adapters(LCM_ADAPTER)
                self._lora = None
            try:
                self._pipe.load_lora_weights(str(folder), adapter_name=LCM_ADAPTER, local_files_only=True)
            except (OSError, ValueError) as exc:
                raise ModelUnavailable(
                    lcm_lora, f"{lcm_lora} is not a LoRA adapter MIRAGE can load: {exc}"
                ) from exc
            self._lora = lcm_lora
        self._pipe.enable_lora()
        self._pipe.set_adapters(LCM_ADAPTER)
        self._pipe.scheduler = self._lcm_scheduler


_generators: ModelCache[Generator] = ModelCache(Generator)


def load_generator(spec: str) -> Generator:
    """The pipeline for `spec`, loaded on first use and kept by this process. Raises ModelUnavailable."""
    return _generators.get(spec)


@dataclass(frozen=True)
class ModelStatus:
    spec: str
    ok: bool
    detail: str = ""  # what was found, or why it is unavailable


def check_diffusion_model(spec: str, *, load: bool = False) -> ModelStatus:
    """Whether the pipeline is here (its model_index.json and component folders), or loads when `load`."""
    try:
        if load:
            generator = load_generator(spec)
            return ModelStatus(
                spec, True, f"loads here, {generator.size}×{generator.size} on {generator.device}"
            )
        folder = model_folder(spec, marker="model_index.json")
        index = json.loads((folder / "model_index.json").read_text())
        missing = [
            name
            for name, value in index.items()
            if isinstance(value, list)
            and value[0]
            and name not in ("safety_checker", "feature_extractor")
            and not (folder / name).is_dir()
        ]
        if missing:
            raise ModelUnavailable(
                spec, f"{spec} lacks the component folders {', '.join(missing)}; {PULL_HINT}"
            )
        return ModelStatus(spec, True, f"found here ({index.get('_class_name', 'diffusers pipeline')})")
    except ModelUnavailable as exc:
        return ModelStatus(spec, False, str(exc))


def check_lora(spec: str) -> ModelStatus:
    """Whether the LoRA adapter's weights are here (it is loaded into the pipeline on the first fast job)."""
    try:
        folder = model_folder(spec)
    except ModelUnavailable as exc:
        return ModelStatus(spec, False, str(exc))
    weights = sorted(p.name for p in folder.glob("*.safetensors"))
    if not weights:
        return ModelStatus(spec, False, f"{spec} holds no .safetensors LoRA weights; {PULL_HINT}")
    return ModelStatus(spec, True, f"found here ({weights[0]})")
