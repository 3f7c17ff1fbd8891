"""What the map page shows: the visible points of a space's map, one point's details, and where a
query (text, q + add − sub, an image of the corpus, or an uploaded picture) and its results fall on
the map."""

from __future__ import annotations

import numpy as np

from apps.atlas.services import AtlasError, atlas_current
from apps.corpus.modality import MODALITIES
from apps.corpus.models import EmbeddingSpace
from apps.corpus.selectors import images_visible_to
from apps.corpus.spaces import CAPTION, configured_spaces
from apps.search.channels import channel_for, nearest_images, stored_vector
from apps.search.filters import Filters, searchable_images
from apps.search.params import Arithmetic, clean_query
from apps.search.selectors import arithmetic_search, similar_search, text_search

RESULTS_SHOWN = 20


def atlas_spaces() -> list[str]:
    """Spaces with vectors, the offline caption space first."""
    names = list(
        EmbeddingSpace.objects.filter(embeddings__isnull=False).distinct().values_list("name", flat=True)
    )
    return sorted(names, key=lambda name: (name != CAPTION, name))


def _space(name: str) -> EmbeddingSpace:
    space = EmbeddingSpace.objects.filter(name=name).first()
    if space is None:
        raise AtlasError(f"There is no map of a “{name}” space on this server.", status=404)
    return space


def atlas_points(*, space_name: str, user) -> dict:
    """Columnar points for the canvas: ids, x, y and a modality index, for the images `user` may see."""
    atlas, stale = atlas_current(space=_space(space_name))
    if atlas is None:
        return {
            "space": space_name,
            "ready": False,
            "stale": stale,
            "modalities": [],
            "id": [],
            "x": [],
            "y": [],
            "m": [],
        }
    ids = atlas.ids()
    xy = atlas.coordinates()
    visible = dict(images_visible_to(user).filter(pk__in=ids.tolist()).values_list("pk", "modality"))
    keys = list(MODALITIES)
    keep = np.fromiter((int(i) in visible for i in ids), dtype=bool, count=len(ids))
    ids, xy = ids[keep], xy[keep]
    return {
        "space": space_name,
        "ready": True,
        "stale": stale,
        "total": atlas.total,
        "modalities": [{"key": key, "label": MODALITIES[key]} for key in keys],
        "id": ids.tolist(),
        "x": np.round(xy[:, 0], 4).tolist(),
        "y": np.round(xy[:, 1], 4).tolist(),
        "m": [keys.index(visible[int(i)]) if visible[int(i)] in keys else len(keys) - 1 for i in ids],
    }


def atlas_point(*, pk: int, user) -> dict:
    image = images_visible_to(user).filter(pk=pk).first()
    if image is None:
        raise AtlasError("No such image.", status=404)
    return {
        "id": image.pk,
        "caption": image.caption[:300],
        "modality": image.get_modality_display(),
        "thumbnail": image.thumbnail.url if image.thumbnail else "",
        "url": f"/images/{image.pk}/",
    }


def atlas_place_query(*, space_name: str, terms: Arithmetic, user) -> dict:
    """Where the query lands on the map, and its results. With add/sub terms: the arrow from q to
    normalize(q + add − sub), and the results of the combined query (as the comparison page ranks them)."""
    space = _space(space_name)
    config = configured_spaces().get(space_name)
    channel, reason = channel_for(config) if config else (None, "This space has no query encoder.")
    if channel is None:
        raise AtlasError(reason, status=409)
    atlas, _ = atlas_current(space=space)
    if atlas is None:
        raise AtlasError("The map is being built; try again in a minute.", status=409)
    basis = atlas.basis()
    query = clean_query(terms.query)
    q_xy = basis.project(channel.encoder.encode_query(query))
    placed = {"label": terms.label, "q": [float(q_xy[0]), float(q_xy[1])], "to": None}
    if terms.add or terms.sub:
        combined = basis.project(terms.vector(channel.encoder.encode_query))
        placed["to"] = [float(combined[0]), float(combined[1])]
        _, result = arithmetic_search(terms=terms, k=RESULTS_SHOWN, user=user)
    else:
        result = text_search(query=query, k=RESULTS_SHOWN, user=user)
    placed["results"] = [hit.image.pk for hit in result.hits]
    placed["notices"] = list(result.notices)
    return placed


def atlas_place_image(*, space_name: str, pk: int, user) -> dict:
    """An image of the corpus as the query: its own point (its stored vector in the map's space) and
    the images most like it, as "More like this" finds them."""
    space = _space(space_name)
    image = images_visible_to(user).filter(pk=pk).first()
    if image is None:
        raise AtlasError("No such image.", status=404)
    atlas, _ = atlas_current(space=space)
    if atlas is None:
        raise AtlasError("The map is being built; try again in a minute.", status=409)
    vector = stored_vector(space=space, image_id=image.pk)
    if vector is None:
        raise AtlasError("This image is not on this map yet.", status=409)
    xy = atlas.basis().project(vector)
    result = similar_search(image=image, k=RESULTS_SHOWN, user=user)
    return {
        "label": f"image {image.external_id}",
        "q": [float(xy[0]), float(xy[1])],
        "to": None,
        "results": [hit.image.pk for hit in result.hits],
        "notices": list(result.notices),
    }


def atlas_takes_pictures(*, space_name: str) -> bool:
    """Whether a picture can be placed on the space's map: only an image space (CLIP) has an image encoder."""
    config = configured_spaces().get(space_name)
    return config is not None and config.target == EmbeddingSpace.IMAGE


def atlas_place_picture(*, space_name: str, picture, label: str, user) -> dict:
    """An uploaded picture as the query, on the map of an image space: its point (the vector of the
    space's image encoder) and the images nearest to it, as the search page's image query finds them."""
    space = _space(space_name)
    if not atlas_takes_pictures(space_name=space_name):
        raise AtlasError(
            f"The {space_name} map places images by what their captions say, and a picture has no caption: "
            "choose the CLIP image space to place a picture, or search with it.",
            status=409,
        )
    channel, reason = channel_for(configured_spaces()[space_name])
    if channel is None:
        raise AtlasError(reason, status=409)
    atlas, _ = atlas_current(space=space)
    if atlas is None:
        raise AtlasError("The map is being built; try again in a minute.", status=409)
    vector = channel.encoder.encode_images([picture])[0]
    xy = atlas.basis().project(vector)
    among = searchable_images(filters=Filters(), user=user)
    ranked = nearest_images(space=channel.space, vector=vector, limit=RESULTS_SHOWN, among=among)
    return {
        "label": label,
        "q": [float(xy[0]), float(xy[1])],
        "to": None,
        "results": [pk for pk, _ in ranked],
        "notices": [],
    }
