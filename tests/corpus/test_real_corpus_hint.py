"""`models check` (the last step of `make run` before serving) says how to get the real corpus while only
the sample corpus is loaded, and stops saying it once another dataset is imported."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from tests import factories

pytestmark = pytest.mark.django_db


def check() -> str:
    out = io.StringIO()
    call_command("models", "check", stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_models_check_names_the_real_corpus_commands_while_only_samples_are_loaded():
    factories.images("Sample chest radiograph.", slug="samples")

    output = check()

    assert "corpus: only the sample images are loaded" in output
    assert "manage.py import_hf mdwiratathya/ROCO-radiology --split validation --metadata" in output
    assert "manage.py evaluate_retrieval --split validation --space clip" in output

    factories.images("A ROCO figure.", slug="roco")
    assert "only the sample images" not in check()
