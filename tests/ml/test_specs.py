"""Every loader names models, finds them on disk and refuses them the same way (apps/ml/specs.py)."""

from __future__ import annotations

import pytest

from apps.ml.describer import load_language_model
from apps.ml.encoders import load_encoder
from apps.ml.generator import load_generator
from apps.ml.specs import PULL_HINT, ModelUnavailable, model_folder

LOADERS = [load_encoder, load_generator, load_language_model]


@pytest.mark.parametrize("load", LOADERS)
def test_every_loader_says_a_hub_id_missing_from_the_cache_must_be_pulled(load):
    with pytest.raises(ModelUnavailable, match="not in the local model cache") as caught:
        load("nobody-here/no-such-model")

    assert PULL_HINT in str(caught.value) and caught.value.spec == "nobody-here/no-such-model"


@pytest.mark.parametrize("load", LOADERS)
def test_every_loader_refuses_a_spec_that_is_neither_a_folder_nor_a_hub_id(load, tmp_path):
    spec = f"local-dir:{tmp_path / 'gone'}"

    with pytest.raises(ModelUnavailable, match="neither an existing model folder nor a hub id"):
        load(spec)


def test_a_local_folder_is_found_with_or_without_its_prefix_and_must_hold_its_marker(tmp_path):
    (tmp_path / "model_index.json").write_text("{}")

    assert model_folder(str(tmp_path), marker="model_index.json") == tmp_path
    assert model_folder(f"local-dir:{tmp_path}") == tmp_path
    with pytest.raises(ModelUnavailable, match="has no config.json"):
        model_folder(str(tmp_path), marker="config.json")
