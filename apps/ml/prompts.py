"""Prompt texts for grounded descriptions: the paper's instruction inside Dolly's instruction template.

Plain strings, no model code: the web process builds the same prompt the worker runs, so a page can
show it before and after the model answers.
"""

from __future__ import annotations

# Dolly-v2's own instruction format (databricks/dolly-v2-3b, instruct_pipeline.py); the model was
# tuned to answer after "### Response:" and to close with "### End".
DOLLY_INTRO = (
    "Below is an instruction that describes a task. "
    "Write a response that appropriately completes the request."
)
DOLLY_TEMPLATE = DOLLY_INTRO + "\n\n### Instruction:\n{instruction}\n\n### Response:\n"
DOLLY_END = "### End"

# The paper's instruction (MIRAGE, Díaz Benito et al. 2025), word for word.
DESCRIPTION_INSTRUCTION = (
    "Explain the medical condition '{query}' concisely using these findings from a database: "
    "{captions}. Keep it short and clinical."
)

# Long captions are shortened so that ten of them and the answer fit in a 2048-token context.
MAX_CAPTION_CHARS = 500


def numbered_captions(captions: list[str]) -> str:
    """`[1] first caption. [2] second caption`: the numbers the answer's citations refer to.

    The instruction puts its own full stop after the last one.
    """
    return ". ".join(f"[{n}] {_shorten(caption)}" for n, caption in enumerate(captions, start=1))


def description_instruction(query: str, captions: list[str]) -> str:
    return DESCRIPTION_INSTRUCTION.format(query=query, captions=numbered_captions(captions))


def dolly_prompt(instruction: str) -> str:
    return DOLLY_TEMPLATE.format(instruction=instruction)


def _shorten(caption: str) -> str:
    caption = " ".join(caption.split()).rstrip(". ")
    if len(caption) <= MAX_CAPTION_CHARS:
        return caption
    return caption[: MAX_CAPTION_CHARS - 1].rsplit(" ", 1)[0] + "…"
