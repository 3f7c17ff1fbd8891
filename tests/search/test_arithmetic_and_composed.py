"""Concept arithmetic and composed queries: the vectors, and the rankings they produce."""

from __future__ import annotations

import io

import numpy as np
import pytest
from django.core.management import call_command

from apps.corpus.models import Embedding, EmbeddingSpace
from apps.corpus.spaces import CAPTION, CLIP, configured_spaces
from apps.ml.encoders import load_encoder
from apps.search.params import Arithmetic
from apps.search.selectors import arithmetic_search, picture_search
from apps.search.vectors import blend, concept_vector
from tests import factories

pytestmark = pytest.mark.django_db

CAPTIONS = [
    "Chest radiograph showing a dual-chamber pacemaker generator with leads in the right heart.",
    "Normal chest radiograph with clear lungs and no foreign bodies.",
    "Chest radiograph showing right lower lobe pneumonia with consolidation.",
    "Axial CT of the abdomen showing a liver mass.",
    "Lateral radiograph of the knee with a joint effusion.",
    "Sagittal MRI of the lumbar spine with a disc herniation.",
]


def embed(*spaces: str) -> None:
    for space in spaces:
        call_command("embed", "--space", space, stdout=io.StringIO(), stderr=io.StringIO())


def test_the_concept_vector_is_the_normalized_weighted_sum_computed_by_hand():
    q, add, sub = np.array([2.0, 0, 0]), np.array([0, 3.0, 0]), np.array([0, 0, 4.0])

    assert np.allclose(concept_vector(q, add=add, sub=sub), np.array([1, 1, -1]) / np.sqrt(3))
    weighted = concept_vector(q, add=add, sub=sub, query_weight=1.0, add_weight=0.5, sub_weight=2.0)
    assert np.allclose(weighted, np.array([1, 0.5, -2]) / np.linalg.norm([1, 0.5, -2]))
    assert np.allclose(concept_vector(q), [1, 0, 0])  # add and subtract may both be left empty
    assert np.allclose(concept_vector(q, sub=sub), np.array([1, 0, -1]) / np.sqrt(2))


def test_composed_weights_0_half_and_1_blend_image_and_text_as_specified():
    image, text = np.array([3.0, 0, 0]), np.array([0, 0.5, 0])
    assert np.allclose(blend(image, text, text_weight=0.0), [1, 0, 0])
    assert np.allclose(blend(image, text, text_weight=1.0), [0, 1, 0])
    assert np.allclose(blend(image, text, text_weight=0.5), np.array([1, 1, 0]) / np.sqrt(2))
    with pytest.raises(ValueError):
        blend(image, text, text_weight=1.5)


def test_the_modified_column_ranks_by_the_arithmetic_vector_in_the_caption_space(settings):
    images = factories.images(*CAPTIONS)
    embed(CAPTION)
    terms = Arithmetic(query="Chest X-ray", add="Pacemaker generator and leads", sub="No foreign bodies")

    original, modified = arithmetic_search(terms=terms, k=6)

    assert modified.label == "Chest X-ray + Pacemaker generator and leads − No foreign bodies"
    assert original.label == "Chest X-ray"
    assert modified.query == "Chest X-ray Pacemaker generator and leads"  # what "Generate" pre-fills
    # The same ranking computed by hand from the stored vectors.
    encoder = load_encoder(configured_spaces()[CAPTION].model)
    expected = concept_vector(
        encoder.encode_query("Chest X-ray"),
        add=encoder.encode_query("Pacemaker generator and leads"),
        sub=encoder.encode_query("No foreign bodies"),
    )
    space = EmbeddingSpace.objects.get(name=CAPTION)
    stored = {e.image_id: np.asarray(e.vector) for e in Embedding.objects.filter(space=space)}
    by_hand = sorted(stored, key=lambda pk: -float(stored[pk] @ expected))
    floor = settings.MIRAGE_SIMILARITY_FLOOR_CAPTION
    assert [hit.image.pk for hit in modified.hits] == [pk for pk in by_hand if stored[pk] @ expected >= floor]
    assert modified.hits[0].image == images[0]  # the pacemaker film
    assert modified.hits[0].image != original.hits[0].image or len(original.hits) == 1


def test_weights_change_the_modified_ranking():
    factories.images(*CAPTIONS)
    embed(CAPTION)
    plain = Arithmetic(query="Chest X-ray", add="pneumonia", sub="clear lungs")
    without_sub = Arithmetic(query="Chest X-ray", add="pneumonia", sub="clear lungs", sub_weight=0.0)

    _, with_subtraction = arithmetic_search(terms=plain, k=6)
    _, no_subtraction = arithmetic_search(terms=without_sub, k=6)
    _, add_only = arithmetic_search(terms=Arithmetic(query="Chest X-ray", add="pneumonia"), k=6)

    assert [h.image.pk for h in no_subtraction.hits] == [h.image.pk for h in add_only.hits]

    def similarities(result):
        return {hit.image.pk: hit.channels[CAPTION].similarity for hit in result.hits}

    assert similarities(with_subtraction) != pytest.approx(similarities(no_subtraction))


def test_composed_query_at_weight_0_is_the_image_query_and_at_1_the_clip_text_query(settings, tiny_clip_dir):
    from apps.search.channels import nearest_images
    from apps.search.filters import Filters, searchable_images

    settings.MIRAGE_CLIP_MODEL = str(tiny_clip_dir)
    factories.images(*CAPTIONS)
    embed(CLIP)
    picture = factories.picture(4242)

    as_image = picture_search(picture=picture, label="q.png", k=6)
    weight_0 = picture_search(picture=picture, text="with contrast", text_weight=0.0, label="q.png", k=6)
    weight_1 = picture_search(picture=picture, text="with contrast", text_weight=1.0, label="q.png", k=6)
    weight_half = picture_search(picture=picture, text="with contrast", text_weight=0.5, label="q.png", k=6)

    assert [h.image.pk for h in weight_0.hits] == [h.image.pk for h in as_image.hits]
    clip = load_encoder(str(tiny_clip_dir))
    space = EmbeddingSpace.objects.get(name=CLIP)
    text_only = nearest_images(
        space=space,
        vector=clip.encode_query("with contrast"),
        limit=6,
        among=searchable_images(filters=Filters()),
    )
    assert [h.image.pk for h in weight_1.hits] == [pk for pk, _ in text_only]
    expected = blend(clip.encode_images([picture])[0], clip.encode_query("with contrast"), text_weight=0.5)
    stored = {e.image_id: np.asarray(e.vector) for e in Embedding.objects.filter(space=space)}
    assert [h.image.pk for h in weight_half.hits] == sorted(
        stored, key=lambda pk: -float(stored[pk] @ expected)
    )
