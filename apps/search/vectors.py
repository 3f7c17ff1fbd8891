"""Vector arithmetic in a shared embedding space (plain numpy)."""

from __future__ import annotations

import numpy as np

# A sum of unit vectors shorter than this share of its weights is cancellation noise (float32
# rounding leaves ~1e-7 of q − q), not a direction: it counts as zero.
CANCELLED = 1e-5


class ZeroVector(ValueError):
    """The vector has no direction: a zero input, or weighted terms that cancel out."""


def normalize(vector: np.ndarray, *, scale: float = 1.0) -> np.ndarray:
    """The unit vector along `vector`; `scale` is what its norm is compared with (the sum of the
    weights of the unit vectors it was added from), so cancellation noise counts as zero."""
    vector = np.asarray(vector, dtype=np.float32)
    norm = float(np.linalg.norm(vector))
    if not np.isfinite(norm) or norm <= max(1e-12, CANCELLED * scale):
        raise ZeroVector("cannot normalize a zero vector")
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

    With unit weights this is the paper's "dual search" vector. Raises ZeroVector when the weighted
    terms cancel out (a zero weight on the only term, `sub` equal to `q` at the same weight, …).
    """
    total = query_weight * normalize(query)
    weights = abs(query_weight)
    if add is not None:
        total = total + add_weight * normalize(add)
        weights += abs(add_weight)
    if sub is not None:
        total = total - sub_weight * normalize(sub)
        weights += abs(sub_weight)
    return normalize(total, scale=weights)


def blend(image: np.ndarray, text: np.ndarray, *, text_weight: float) -> np.ndarray:
    """A composed query: normalize((1 − w)·normalize(image) + w·normalize(text)), w in [0, 1]."""
    if not 0.0 <= text_weight <= 1.0:
        raise ValueError("text_weight must be between 0 and 1")
    return normalize((1.0 - text_weight) * normalize(image) + text_weight * normalize(text))
