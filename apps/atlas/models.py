"""One cached map per embedding space: the PCA basis and every mapped point, packed as float32."""

from __future__ import annotations

import numpy as np
from django.db import models

from apps.atlas.projection import Basis
from apps.corpus.models import EmbeddingSpace


class AtlasMap(models.Model):
    """The 2-D map of a space as it was when `key` (vector count and newest vector id) was current."""

    space = models.OneToOneField(EmbeddingSpace, on_delete=models.CASCADE, related_name="atlas_map")
    key = models.CharField(max_length=100)
    method = models.CharField(max_length=20, default="pca")
    mean = models.BinaryField()
    axes = models.BinaryField()
    scale = models.FloatField()
    image_ids = models.BinaryField()  # int64 per point
    xy = models.BinaryField()  # float32 (x, y) per point
    total = models.PositiveIntegerField()  # vectors in the space when built (points may be a sample)
    built_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"map of {self.space.name} ({len(self.ids())} points)"

    def basis(self) -> Basis:
        dim = self.space.dim
        return Basis(
            mean=np.frombuffer(bytes(self.mean), dtype=np.float32),
            axes=np.frombuffer(bytes(self.axes), dtype=np.float32).reshape(2, dim),
            scale=self.scale,
        )

    def ids(self) -> np.ndarray:
        return np.frombuffer(bytes(self.image_ids), dtype=np.int64)

    def coordinates(self) -> np.ndarray:
        return np.frombuffer(bytes(self.xy), dtype=np.float32).reshape(-1, 2)
