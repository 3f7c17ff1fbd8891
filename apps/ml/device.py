"""The one place that decides which device and dtype the models run on."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

DEVICE_ENV = "MIRAGE_DEVICE"


def pick_device() -> str:
    """ "cuda" when torch sees a GPU, else "cpu"; `MIRAGE_DEVICE` overrides (e.g. "cpu", "cuda:1")."""
    import torch

    wanted = os.environ.get(DEVICE_ENV, "").strip()
    if not wanted:
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        kind = torch.device(wanted).type
    except RuntimeError as exc:
        raise ValueError(f"{DEVICE_ENV}={wanted!r} is not a torch device name (try 'cpu' or 'cuda')") from exc
    # Fail loudly instead of crashing later on the first tensor moved to a missing GPU.
    if kind == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"{DEVICE_ENV}={wanted!r} but torch sees no CUDA device")
    return wanted


def pick_dtype(device: str, *, gguf: bool = False) -> torch.dtype:
    """float16 on a GPU (half the memory, tensor cores), float32 on CPU (fp16 matmuls there are slow).

    A GGUF model always gets float32: transformers computes with its packed weights in float32, and any
    other dtype only adds a cast around every matmul (0.4 instead of tens of tokens per second on a CPU).
    """
    import torch

    if gguf:
        return torch.float32
    return torch.float16 if device.startswith("cuda") else torch.float32
