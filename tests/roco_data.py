"""Where the real ROCO validation/radiology metadata is: `shared/data/` beside the checkout (the main
checkout's parent folder, or a worktree's grandparent)."""

from __future__ import annotations

from pathlib import Path


def _find() -> Path:
    relative = Path("shared") / "data" / "roco-validation-radiology"
    here = Path(__file__).resolve().parent
    for folder in here.parents:
        if (folder / relative).is_dir():
            return folder / relative
    return here.parent.parent / relative  # where it belongs; tests that need it skip when it is missing


REAL_ROCO = _find()
