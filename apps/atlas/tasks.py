"""Background job (django-q2): rebuild a space's map after the corpus changed."""

from __future__ import annotations

from apps.atlas.models import AtlasMap
from apps.atlas.services import atlas_build, atlas_key
from apps.corpus.models import EmbeddingSpace


def build_map(space_name: str) -> str:
    space = EmbeddingSpace.objects.get(name=space_name)
    current = AtlasMap.objects.filter(space=space).values_list("key", flat=True).first()
    if current == atlas_key(space=space):  # several stale page views queue one build each
        return "already current"
    atlas = atlas_build(space=space)
    return f"{len(atlas.ids())} points"
