"""A 2-D map of an embedding space by principal components (plain numpy, no Django).

PCA is deterministic (up to the sign of each axis, fixed here), cheap (one small eigenproblem
on a sample), and, unlike UMAP, a linear map: a query vector, or the step from q to q + add − sub,
lands on the map by the same formula as the corpus, so an arrow on the map is the projection of the real step.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FIT_SAMPLE = 20_000  # rows the axes are fitted on; projecting the rest costs one matrix product


@dataclass(frozen=True)
class Basis:
    mean: np.ndarray  # (dim,)
    axes: np.ndarray  # (2, dim), orthonormal rows
    scale: float  # divides projected coordinates so the corpus spans about [-1, 1]

    def project(self, vectors: np.ndarray) -> np.ndarray:
        """(n, dim) or (dim,) vectors → (n, 2) or (2,) map coordinates."""
        vectors = np.asarray(vectors, dtype=np.float32)
        return ((vectors - self.mean) @ self.axes.T / self.scale).astype(np.float32)


def fit_basis(vectors: np.ndarray, *, seed: int = 0) -> Basis:
    """The two principal axes of `vectors` (n, dim), fitted on at most FIT_SAMPLE rows.

    Each axis is oriented so that its largest-magnitude component is positive, so the same data
    always gives the same map (eigensolvers may flip signs between runs and libraries).
    """
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim != 2 or vectors.shape[0] < 2:
        raise ValueError("a map needs at least two vectors")
    sample = vectors
    if len(vectors) > FIT_SAMPLE:
        rows = np.random.default_rng(seed).choice(len(vectors), FIT_SAMPLE, replace=False)
        sample = vectors[np.sort(rows)]
    mean = sample.mean(axis=0, dtype=np.float64)
    centred = sample - mean.astype(np.float32)
    # The principal axes are the top eigenvectors of the dim × dim covariance: one matrix product
    # and a small symmetric eigenproblem, far cheaper than an SVD of the n × dim data.
    covariance = (centred.T @ centred).astype(np.float64)
    _, eigenvectors = np.linalg.eigh(covariance)  # ascending eigenvalues
    axes = eigenvectors[:, ::-1][:, :2].T.astype(np.float32).copy()
    for axis in axes:
        biggest = np.argmax(np.abs(axis))
        if axis[biggest] < 0:
            axis *= -1
    projected = centred @ axes.T
    scale = float(np.abs(projected).max()) or 1.0
    return Basis(mean=mean.astype(np.float32), axes=axes, scale=scale)
