import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from apps.ml import encoders
from apps.ml.cache import ModelCache
from apps.ml.device import pick_device, pick_dtype
from apps.ml.encoders import check_encoder, load_encoder
from apps.ml.specs import DEFAULT_CLIP_MODEL, ModelUnavailable, default_caption_model, short_name
from tests.ml.tiny_models import build_tiny_hf_clip, build_tiny_open_clip

os.environ["HF_HUB_OFFLINE"] = "1"

TEXTS = ["chest X-ray with pneumothorax", "axial CT of the head", "knee MRI, sagittal T2"]


@pytest.fixture(scope="module")
def tiny_open_clip_dir(tmp_path_factory) -> Path:
    return build_tiny_open_clip(tmp_path_factory.mktemp("tiny-open-clip"))


@pytest.fixture(scope="module")
def tiny_hf_clip_dir(tmp_path_factory) -> Path:
    return build_tiny_hf_clip(tmp_path_factory.mktemp("tiny-hf-clip"))


@pytest.fixture(scope="module")
def images() -> list[Image.Image]:
    rng = np.random.default_rng(0)
    # Greyscale and odd-sized like real radiographs, plus an RGB photograph-like one.
    grey = Image.fromarray(np.tile(np.arange(50, dtype=np.uint8) * 5, (40, 1)), mode="L")
    rgb = Image.fromarray(rng.integers(0, 255, (64, 48, 3), dtype=np.uint8), mode="RGB")
    return [grey, rgb]


def assert_unit_rows(vectors: np.ndarray, n: int, dim: int) -> None:
    assert vectors.shape == (n, dim)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)


def test_tiny_open_clip_folder_encodes_texts_and_images_as_unit_rows(tiny_open_clip_dir, images):
    encoder = load_encoder(str(tiny_open_clip_dir))

    assert (encoder.kind, encoder.dim, encoder.supports_images) == ("open_clip", 32, True)
    assert_unit_rows(encoder.encode_texts(TEXTS), 3, 32)
    assert_unit_rows(encoder.encode_images(images), 2, 32)


def test_an_encoder_is_loaded_once_per_spec(tiny_open_clip_dir):
    assert load_encoder(str(tiny_open_clip_dir)) is load_encoder(str(tiny_open_clip_dir))


def test_requests_arriving_together_share_one_loaded_encoder(tmp_path):
    folder = str(build_tiny_open_clip(tmp_path / "shared"))
    with ThreadPoolExecutor(max_workers=4) as pool:
        loaded = list(pool.map(load_encoder, [folder] * 4))

    assert all(encoder is loaded[0] for encoder in loaded)


def test_local_dir_prefix_names_the_same_open_clip_folder(tiny_open_clip_dir):
    plain = load_encoder(str(tiny_open_clip_dir))
    prefixed = load_encoder(f"local-dir:{tiny_open_clip_dir}")

    np.testing.assert_allclose(prefixed.encode_texts(TEXTS), plain.encode_texts(TEXTS), atol=1e-6)


def test_identical_input_gives_identical_vectors(tiny_open_clip_dir, images):
    encoder = load_encoder(str(tiny_open_clip_dir))

    np.testing.assert_array_equal(encoder.encode_texts(TEXTS), encoder.encode_texts(TEXTS))
    np.testing.assert_array_equal(encoder.encode_images(images), encoder.encode_images(images))


def test_texts_are_encoded_the_same_alone_or_in_a_batch(tiny_open_clip_dir):
    encoder = load_encoder(str(tiny_open_clip_dir))
    many = TEXTS * 12  # more than one internal batch

    batched = encoder.encode_texts(many)
    np.testing.assert_allclose(batched[-1], encoder.encode_texts([many[-1]])[0], atol=1e-5)


def test_no_texts_give_an_empty_array_of_the_right_width(tiny_open_clip_dir):
    assert load_encoder(str(tiny_open_clip_dir)).encode_texts([]).shape == (0, 32)


def test_text_longer_than_the_context_is_truncated_not_rejected(tiny_open_clip_dir, tiny_hf_clip_dir):
    long_text = "pneumothorax " * 400

    for folder in (tiny_open_clip_dir, tiny_hf_clip_dir):
        assert load_encoder(str(folder)).encode_texts([long_text]).shape == (1, 32)


def test_tiny_hf_clip_folder_encodes_texts_and_images(tiny_hf_clip_dir, images):
    encoder = load_encoder(str(tiny_hf_clip_dir))

    assert (encoder.kind, encoder.dim, encoder.supports_images) == ("transformers-clip", 32, True)
    assert_unit_rows(encoder.encode_texts(TEXTS), 3, 32)
    assert_unit_rows(encoder.encode_images(images), 2, 32)


def test_bundled_minilm_loads_and_ranks_a_paraphrase_above_another_modality():
    encoder = load_encoder(default_caption_model())
    query, paraphrase, other = encoder.encode_texts(
        ["chest radiograph showing pneumothorax", "chest X-ray with a collapsed lung", "MRI of the knee"]
    )

    assert (encoder.kind, encoder.dim, encoder.supports_images) == ("sentence-transformers", 384, False)
    assert query @ paraphrase > query @ other + 0.1


def test_text_only_encoder_refuses_images(images):
    with pytest.raises(ValueError, match="text only"):
        load_encoder(default_caption_model()).encode_images(images)


def test_uncached_hub_model_is_unavailable_quickly_and_says_which_model():
    started = time.monotonic()
    with pytest.raises(ModelUnavailable, match="luhuitong/CLIP-ViT-L-14-448px-MedICaT-ROCO") as caught:
        load_encoder(DEFAULT_CLIP_MODEL)

    assert time.monotonic() - started < 30
    assert "models pull" in str(caught.value)


def test_uncached_bare_hub_id_is_unavailable():
    with pytest.raises(ModelUnavailable, match="not in the local model cache"):
        load_encoder("flaviagiammarino/pubmed-clip-vit-base-patch32")


def test_nonexistent_folder_is_unavailable(tmp_path):
    with pytest.raises(ModelUnavailable, match="neither an existing model folder"):
        load_encoder(str(tmp_path / "no" / "such" / "model"))


def test_folder_of_unknown_format_is_unavailable(tmp_path):
    (tmp_path / "config.json").write_text('{"model_type": "bert"}')

    with pytest.raises(ModelUnavailable, match="no model format"):
        load_encoder(str(tmp_path))


def test_open_clip_folder_without_weights_is_unavailable_rather_than_random(tiny_open_clip_dir, tmp_path):
    shutil.copy(tiny_open_clip_dir / "open_clip_config.json", tmp_path)

    with pytest.raises(ModelUnavailable, match="could not be loaded"):
        load_encoder(str(tmp_path))


def test_a_model_placed_after_a_failed_load_is_found_on_the_next_call(tmp_path):
    folder = tmp_path / "later"
    with pytest.raises(ModelUnavailable):
        load_encoder(str(folder))

    build_tiny_open_clip(folder)
    assert load_encoder(str(folder)).dim == 32


def test_check_encoder_reports_minilm_ok_and_uncached_hub_model_not_ok():
    good = check_encoder(default_caption_model())
    bad = check_encoder(DEFAULT_CLIP_MODEL)

    assert (good.ok, good.dim, good.kind, good.error) == (True, 384, "sentence-transformers", None)
    assert not bad.ok and bad.dim is None and "MedICaT-ROCO" in bad.error


def test_repeated_query_is_encoded_once_and_a_new_one_again(tiny_open_clip_dir):
    encoder = load_encoder(str(tiny_open_clip_dir))
    before = encoder.query_cache_info()

    first = encoder.encode_query("pleural effusion on chest CT")
    again = encoder.encode_query("pleural effusion on chest CT")
    assert encoder.query_cache_info().misses == before.misses + 1
    assert encoder.query_cache_info().hits == before.hits + 1
    assert again is first

    encoder.encode_query("fractured tibia")
    assert encoder.query_cache_info().misses == before.misses + 2


def test_a_query_vector_is_the_text_vector_and_cannot_be_changed_in_place(tiny_open_clip_dir):
    encoder = load_encoder(str(tiny_open_clip_dir))
    vector = encoder.encode_query("renal cyst on ultrasound")

    assert vector.shape == (32,)
    np.testing.assert_allclose(vector, encoder.encode_texts(["renal cyst on ultrasound"])[0], atol=1e-6)
    with pytest.raises(ValueError):
        vector[0] = 0.0


def test_clip_encoders_in_half_precision_give_nearly_the_full_precision_vectors(
    tiny_open_clip_dir, tiny_hf_clip_dir, images, monkeypatch
):
    # The GPU runs float16; this machine has none, so the half-precision path is run on the CPU.
    full = [load_encoder(str(folder)) for folder in (tiny_open_clip_dir, tiny_hf_clip_dir)]
    monkeypatch.setattr(encoders, "_encoders", ModelCache(encoders._load))  # a fresh process, in effect
    monkeypatch.setattr(encoders, "pick_dtype", lambda device: torch.float16)

    for full_encoder, folder in zip(full, (tiny_open_clip_dir, tiny_hf_clip_dir), strict=True):
        half = load_encoder(str(folder))
        assert half is not full_encoder
        for encode in ("encode_texts", "encode_images"):
            inputs = TEXTS if encode == "encode_texts" else images
            half_vectors = getattr(half, encode)(inputs)
            assert half_vectors.dtype == np.float32
            cosines = np.sum(half_vectors * getattr(full_encoder, encode)(inputs), axis=1)
            assert cosines.min() > 0.99


def test_device_follows_mirage_device(monkeypatch):
    monkeypatch.setenv("MIRAGE_DEVICE", "cpu")
    assert pick_device() == "cpu"

    monkeypatch.delenv("MIRAGE_DEVICE")
    assert pick_device() == ("cuda" if torch.cuda.is_available() else "cpu")


def test_an_impossible_mirage_device_fails_loudly(monkeypatch):
    monkeypatch.setenv("MIRAGE_DEVICE", "toaster")
    with pytest.raises(ValueError, match="MIRAGE_DEVICE"):
        pick_device()

    if not torch.cuda.is_available():
        monkeypatch.setenv("MIRAGE_DEVICE", "cuda")
        with pytest.raises(ValueError, match="no CUDA device"):
            pick_device()


def test_half_precision_on_gpu_and_full_precision_on_cpu():
    assert pick_dtype("cuda") == torch.float16
    assert pick_dtype("cuda:1") == torch.float16
    assert pick_dtype("cpu") == torch.float32


def test_a_gguf_model_runs_in_full_precision_on_any_device():
    assert pick_dtype("cuda", gguf=True) == pick_dtype("cpu", gguf=True) == torch.float32


def test_short_names_drop_prefixes_and_paths():
    assert short_name(DEFAULT_CLIP_MODEL) == "CLIP-ViT-L-14-448px-MedICaT-ROCO"
    assert short_name(default_caption_model()) == "all-MiniLM-L6-v2"
    assert short_name("flaviagiammarino/pubmed-clip-vit-base-patch32") == "pubmed-clip-vit-base-patch32"
    assert short_name("/hub/models--org--pubmed-clip/snapshots/0a1b2c") == "pubmed-clip"


def test_bundled_caption_model_is_a_sentence_transformers_folder():
    assert (Path(default_caption_model()) / "modules.json").is_file()


def test_importing_the_ml_app_does_not_import_torch():
    code = "import sys, apps.ml.encoders, apps.ml.device, apps.ml.specs; print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)

    assert result.stdout.strip() == "False"
