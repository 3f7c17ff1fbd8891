"""Vector arithmetic in a shared embedding space (plain numpy)."""

from __future__ import annotations

import numpy as np


def normalize(vector: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vector))
    if norm < 1e-12:
        raise ValueError("cannot normalize a zero vector")
    return (vector / norm).astype(np.float32)


def concept_vector(
    query: np.ndarray,
    *,
    add: np.ndarray | None = None,
    sub: np.ndarray | None = None,
    query_weight: float = 1.0,
    add_weight: float = 1.0,
    sub_weight: float = 1.0,
) -> np.ndarray:
    """normalize(wq·normalize(q) + wa·normalize(add) − ws·normalize(sub)); add and sub are optional.

    With unit weights this is the paper's "dual search" vector.
    """
    total = query_weight * normalize(query)
    if add is not None:
        total = total + add_weight * normalize(add)
    if sub is not None:
        total = total - sub_weight * normalize(sub)
    return normalize(total)


def blend(image: np.ndarray, text: np.ndarray, *, text_weight: float) -> np.ndarray:
    """A composed query: normalize((1 − w)·normalize(image) + w·normalize(text)), w in [0, 1]."""
    if not 0.0 <= text_weight <= 1.0:
        raise ValueError("text_weight must be between 0 and 1")
    return normalize((1.0 - text_weight) * normalize(image) + text_weight * normalize(text))
