"""Writes for a question asked on one screen: its description and synthetic-image jobs, queued through
the generation services (their checks, quotas and queue limits are the same as on the generation
pages and in the API)."""

from __future__ import annotations

from dataclasses import dataclass, field

from apps.comparison.selectors import Question
from apps.core.errors import UserError
from apps.generation.models import Job
from apps.generation.selectors import model_availability
from apps.generation.services import FAST, QUALITY, description_submit, generation_submit


@dataclass
class Asked:
    describe: Job | None = None  # one description job for all columns
    images: list[Job | None] = field(default_factory=list)  # one generation job per column
    problems: list[str] = field(default_factory=list)  # why a part was not started, one sentence each


def question_submit(*, owner, question: Question) -> Asked:
    """Queue a description of every column (each from its own top captions) and, where the diffusion
    model is installed, a synthetic image of each column, with the default settings (fast mode where its
    adapter is installed). What this server cannot run is not queued; a part that is refused (a quota,
    no captions to ground a description in) is told, and the other parts still start."""
    available = model_availability()
    asked = Asked()
    if available.describe:
        try:
            asked.describe = description_submit(
                owner=owner, queries=question.queries, arithmetic=question.arithmetic
            )
        except UserError as exc:
            asked.problems.append(f"The description was not started: {exc}")
    mode = FAST if available.fast else QUALITY
    for column in question.columns:
        image = None
        if available.generate:
            try:
                image = generation_submit(owner=owner, prompt=column.prompt, mode=mode)
            except UserError as exc:
                asked.problems.append(f"The image of “{column.result.label}” was not started: {exc}")
        asked.images.append(image)
    return asked
