"""manage.py load_samples: the bundled sample corpus, stored and searchable."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from apps.corpus.models import Image
from apps.search.selectors import text_search

pytestmark = pytest.mark.django_db


def load() -> str:
    out = io.StringIO()
    call_command("load_samples", stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_samples_load_once_with_images_licences_and_several_modalities():
    first = load()

    samples = Image.objects.filter(dataset__slug="samples")
    assert samples.count() >= 20
    assert "failed 0" in first and "metadata-only" not in first
    assert samples.values("modality").distinct().count() >= 5
    assert not samples.filter(file="").exists()
    assert not samples.filter(attribution="").exists()
    assert not samples.filter(licence="none").exists()
    assert "imported 0, updated 0" in load()
    assert Image.objects.filter(dataset__slug="samples").count() == samples.count()


def test_samples_are_found_by_text_search():
    load()
    call_command("embed", "--space", "caption", stdout=io.StringIO(), stderr=io.StringIO())

    result = text_search(query="chest radiograph", k=3)

    assert result.hits[0].image.external_id == "sample-chest-xray"
    fundus = text_search(query="retinal fundus photograph", k=3)
    assert fundus.hits[0].image.external_id.startswith("sample-retina")
