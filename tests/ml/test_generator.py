"""The diffusion loader and generator on a tiny Stable Diffusion pipeline saved in the real folder format."""

import numpy as np
import pytest

from apps.ml.generator import ImageRequest, check_diffusion_model, check_lora, load_generator
from apps.ml.specs import ModelUnavailable
from tests.ml.tiny_generation_models import TINY_IMAGE_SIZE, build_tiny_lcm_lora, build_tiny_sd


@pytest.fixture(scope="module", autouse=True)
def _one_torch_thread():
    """Tiny models gain nothing from threads; on a busy 2-core machine spinning OpenMP threads slow them."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def sd_dir(tmp_path_factory):
    return str(build_tiny_sd(tmp_path_factory.mktemp("tiny-sd")))


@pytest.fixture(scope="module")
def lora_dir(tmp_path_factory):
    return str(build_tiny_lcm_lora(tmp_path_factory.mktemp("tiny-lcm-lora")))


def request(**changes) -> ImageRequest:
    values = {
        "prompt": "chest x-ray with pneumothorax",
        "negative_prompt": "text",
        "steps": 3,
        "guidance": 7.5,
        "seed": 11,
        "count": 1,
        "lcm_lora": None,
    }
    return ImageRequest(**(values | changes))


def pixels(image) -> np.ndarray:
    return np.asarray(image, dtype=np.int16)


def test_tiny_pipeline_folder_makes_images_of_its_own_size_and_reports_each_step(sd_dir):
    generator = load_generator(sd_dir)
    steps = []

    images = generator.generate(request(count=2), on_step=lambda i, n: steps.append((i, n)))

    assert generator.size == TINY_IMAGE_SIZE
    assert [image.size for image in images] == [(TINY_IMAGE_SIZE, TINY_IMAGE_SIZE)] * 2
    total = steps[-1][1]
    assert [i for i, _ in steps] == list(range(1, total + 1))
    assert total >= 3


def test_a_pipeline_is_loaded_once_per_spec(sd_dir):
    assert load_generator(sd_dir) is load_generator(sd_dir)


def test_the_same_seed_makes_the_same_image_and_image_i_of_a_batch_uses_seed_plus_i(sd_dir):
    generator = load_generator(sd_dir)

    batch = generator.generate(request(seed=40, count=2))
    again = generator.generate(request(seed=40, count=1))
    second_alone = generator.generate(request(seed=41, count=1))

    assert np.array_equal(pixels(batch[0]), pixels(again[0]))
    assert np.abs(pixels(batch[1]) - pixels(second_alone[0])).max() <= 1  # batched vs single rounding
    assert not np.array_equal(pixels(batch[0]), pixels(batch[1]))


def test_fast_mode_runs_lcm_steps_with_the_lora_and_quality_mode_afterwards_is_unchanged(sd_dir, lora_dir):
    generator = load_generator(sd_dir)
    before = generator.generate(request())
    fast_steps = []

    fast = generator.generate(
        request(steps=4, guidance=1.5, lcm_lora=lora_dir), on_step=lambda i, n: fast_steps.append(n)
    )
    after = generator.generate(request())

    assert fast_steps[-1] == 4
    assert not np.array_equal(pixels(fast[0]), pixels(before[0]))
    # The adapter is switched off and the pipeline's own scheduler is back for quality mode.
    assert np.array_equal(pixels(before[0]), pixels(after[0]))


def test_a_step_callback_that_raises_stops_the_run_and_the_generator_stays_usable(sd_dir):
    generator = load_generator(sd_dir)

    def cancel(i, n):
        if i == 2:
            raise KeyboardInterrupt("cancelled")

    with pytest.raises(KeyboardInterrupt):
        generator.generate(request(steps=5), on_step=cancel)
    assert len(generator.generate(request(steps=2))) == 1


def test_a_long_prompt_is_cut_at_the_last_whole_word_that_fits_77_clip_tokens(sd_dir):
    generator = load_generator(sd_dir)
    words = [f"finding{n}" for n in range(120)]

    fitted = generator.fit_prompt(" ".join(words))

    kept = fitted.text.split()
    assert fitted.truncated
    assert kept == words[: len(kept)]
    assert (
        generator._token_count(fitted.text) <= 77 < generator._token_count(" ".join(words[: len(kept) + 1]))
    )
    assert generator.fit_prompt("chest x-ray").truncated is False


def test_an_adapter_that_is_not_there_is_reported_by_its_spec(sd_dir, tmp_path):
    generator = load_generator(sd_dir)

    with pytest.raises(ModelUnavailable) as excinfo:
        generator.generate(request(lcm_lora=str(tmp_path)))

    assert excinfo.value.spec == str(tmp_path)
    assert len(generator.generate(request(steps=2))) == 1


def test_a_model_missing_from_the_cache_is_unavailable_with_the_pull_hint():
    with pytest.raises(ModelUnavailable, match="models pull"):
        load_generator("nobody-here/no-such-diffusion-model")


def test_check_tells_what_is_here_without_loading(sd_dir, lora_dir, tmp_path):
    assert check_diffusion_model(sd_dir).ok
    assert "StableDiffusionPipeline" in check_diffusion_model(sd_dir).detail
    assert check_lora(lora_dir).ok
    missing = check_diffusion_model("nobody-here/no-such-diffusion-model")
    assert not missing.ok and "models pull" in missing.detail
    assert not check_diffusion_model(str(tmp_path)).ok
    assert not check_lora(str(tmp_path)).ok
