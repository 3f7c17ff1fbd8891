"""The sample corpus a fresh install ships."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from PIL import Image

from apps.corpus.modality import MODALITIES
from apps.corpus.records import EntryRecord
from apps.corpus.samples import MAX_SIDE, sample_entries


@pytest.fixture(scope="module")
def entries() -> list[EntryRecord]:
    return sample_entries()


@pytest.fixture(scope="module")
def rendered(entries: list[EntryRecord]) -> dict[str, Image.Image]:
    return {entry.external_id: entry.render() for entry in entries if entry.render}


def test_sample_corpus_has_at_least_24_images_across_6_modalities(entries: list[EntryRecord]) -> None:
    assert len(entries) >= 24
    assert len({entry.modality for entry in entries}) >= 6
    assert all(entry.modality in MODALITIES for entry in entries)


def test_sample_ids_are_unique_and_readable(entries: list[EntryRecord]) -> None:
    ids = [entry.external_id for entry in entries]
    assert len(ids) == len(set(ids))
    assert all(
        external_id.startswith("sample-") and external_id == external_id.lower() for external_id in ids
    )


def test_every_sample_says_what_it_shows_and_where_it_comes_from(entries: list[EntryRecord]) -> None:
    for entry in entries:
        assert len(entry.caption) > 40, entry.external_id
        assert entry.licence_raw.strip(), entry.external_id
        assert entry.attribution.strip(), entry.external_id
        assert entry.source_url.startswith("https://"), entry.external_id
        assert entry.keywords, entry.external_id
        assert entry.render is not None, entry.external_id


def test_every_sample_renders_to_a_non_blank_8_bit_image(
    entries: list[EntryRecord], rendered: dict[str, Image.Image]
) -> None:
    assert set(rendered) == {entry.external_id for entry in entries}
    for external_id, image in rendered.items():
        assert image.mode in ("L", "RGB"), external_id
        assert max(image.size) <= MAX_SIDE, external_id
        pixels = np.asarray(image)
        assert pixels.dtype == np.uint8, external_id
        assert pixels.std() > 5, external_id


def test_rendered_samples_are_all_different_images(rendered: dict[str, Image.Image]) -> None:
    digests = {hashlib.sha256(image.tobytes()).hexdigest() for image in rendered.values()}
    assert len(digests) == len(rendered)
