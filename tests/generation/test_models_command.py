"""`manage.py models check` and `models pull` for the generation models."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from apps.ml.device import pick_device


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("models", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.fixture
def hub_unreachable(monkeypatch):
    """The hub at a closed local port: `pull` must fail fast and clearly, and never reach the network."""
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "ENDPOINT", "http://127.0.0.1:9")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)


@pytest.mark.django_db
def test_check_finds_the_generation_models_and_the_offline_fallback(tiny_models):
    output = run("check")

    assert (
        f"diffusion: {tiny_models['MIRAGE_DIFFUSION_MODEL']} — found here (StableDiffusionPipeline)" in output
    )
    assert (
        f"lora: {tiny_models['MIRAGE_DIFFUSION_LORA']} — found here (pytorch_lora_weights.safetensors)"
        in output
    )
    assert f"llm: {tiny_models['MIRAGE_LLM_MODEL']} — found here (transformers)" in output
    assert "llm fallback: SmolLM2-135M-Instruct — found here (GGUF" in output
    # The encoders' lines are as they were.
    assert "caption: " in output and "loads here, 384-d (sentence-transformers)" in output


@pytest.mark.django_db
def test_check_load_loads_them_as_the_worker_would(tiny_models):
    output = run("check", "--load")

    device = pick_device()
    assert f"diffusion: {tiny_models['MIRAGE_DIFFUSION_MODEL']} — loads here, 64×64 on {device}" in output
    assert f"llm: {tiny_models['MIRAGE_LLM_MODEL']} — loads here, context 2048 tokens, on {device}" in output


@pytest.mark.django_db
def test_check_says_what_happens_when_the_models_are_missing(settings):
    settings.MIRAGE_DIFFUSION_MODEL = "nobody-here/no-such-diffusion-model"
    settings.MIRAGE_LLM_MODEL = "nobody-here/no-such-llm"

    output = run("check")

    assert (
        "diffusion: nobody-here/no-such-diffusion-model — unavailable:" in output and "models pull" in output
    )
    assert "instead: image generation fails" in output
    assert "llm: nobody-here/no-such-llm — unavailable:" in output
    assert "instead: the bundled SmolLM2-135M-Instruct answers, and the page says so" in output


def test_pull_without_the_hub_fails_with_a_clear_message(settings, hub_unreachable):
    from huggingface_hub import constants

    settings.MIRAGE_LLM_MODEL = "nobody-here/no-such-llm"

    with pytest.raises(CommandError, match="hub cannot be reached from this machine"):
        run("pull", "llm")
    assert constants.HF_HUB_OFFLINE is True  # lifted for the command only


def test_pull_skips_local_folders_and_the_bundled_models(settings, tiny_models, hub_unreachable):
    settings.MIRAGE_CAPTION_MODEL = ""

    output = run("pull", "diffusion", "lora", "llm", "caption")

    assert output.count("a local folder; nothing to pull") == 3
    assert "caption: default — bundled with the platform; nothing to pull" in output


def test_pull_refuses_unknown_names():
    with pytest.raises(CommandError, match="Unknown model name dolly"):
        run("pull", "dolly")
