"""The map's projection: plain numpy, deterministic, and linear (a query lands where the corpus would)."""

from __future__ import annotations

import numpy as np

from apps.atlas.projection import fit_basis


def clustered(seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(3, 64)) * 5
    return np.vstack([centre + rng.normal(size=(200, 64)) for centre in centres]).astype(np.float32)


def test_the_same_vectors_always_give_the_same_map():
    vectors = clustered()
    first, second = fit_basis(vectors), fit_basis(vectors.copy())
    assert np.array_equal(first.project(vectors), second.project(vectors))


def test_each_axis_points_towards_its_largest_component_and_the_axes_are_orthonormal():
    basis = fit_basis(clustered())
    for axis in basis.axes:
        assert axis[np.argmax(np.abs(axis))] > 0
    assert np.allclose(basis.axes @ basis.axes.T, np.eye(2), atol=1e-5)


def test_the_map_keeps_clusters_apart_and_spans_about_minus_one_to_one():
    vectors = clustered()
    xy = fit_basis(vectors).project(vectors)
    assert np.abs(xy).max() <= 1.0 + 1e-5
    centres = np.array([xy[i * 200 : (i + 1) * 200].mean(axis=0) for i in range(3)])
    spread = max(xy[i * 200 : (i + 1) * 200].std(axis=0).max() for i in range(3))
    gaps = [np.linalg.norm(centres[a] - centres[b]) for a, b in ((0, 1), (0, 2), (1, 2))]
    assert min(gaps) > 3 * spread


def test_a_single_vector_projects_like_the_same_row_of_the_corpus():
    vectors = clustered()
    basis = fit_basis(vectors)
    assert np.allclose(basis.project(vectors[17]), basis.project(vectors)[17], atol=1e-6)


def test_the_step_of_an_arithmetic_query_projects_linearly():
    vectors = clustered()
    basis = fit_basis(vectors)
    q, step = vectors[0], vectors[300] - vectors[500]
    moved = basis.project(q + step) - basis.project(q)
    assert np.allclose(moved, step @ basis.axes.T / basis.scale, atol=1e-5)


def test_large_inputs_are_fitted_on_a_fixed_sample():
    rng = np.random.default_rng(3)
    vectors = rng.normal(size=(25_000, 8)).astype(np.float32)
    vectors[:, 0] *= 10
    basis = fit_basis(vectors, seed=5)
    assert np.array_equal(basis.axes, fit_basis(vectors, seed=5).axes)
    assert abs(basis.axes[0][0]) > 0.99
