"""The bodies of the two kinds of job, run by the worker (never by a web process: they load the models).

Each runner does the slow work, reporting progress through its JobRun, and returns a `commit()` that
writes the result rows; the worker calls it in the same transaction that marks the job done.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.utils import timezone

from apps.corpus.embeddings import embed_space
from apps.corpus.spaces import configured_spaces
from apps.generation import services
from apps.generation.lease import JobFailed, JobRun
from apps.generation.models import Job
from apps.generation.selectors import FAST_UNAVAILABLE, description_cached
from apps.generation.watermark import mark_synthetic, png_with_metadata
from apps.ml.describer import FALLBACK_LABEL, resolve_language_model
from apps.ml.generator import ImageRequest, load_generator
from apps.ml.prompts import description_instruction
from apps.ml.specs import HUB_ID, ModelUnavailable, short_name

logger = logging.getLogger(__name__)


def model_id(spec: str) -> str:
    """A model's name for metadata: the hub id, or a local folder's name (never a server path)."""
    return spec if HUB_ID.match(spec) else short_name(spec)


def run_generation(run: JobRun) -> Callable[[], dict]:
    params = run.job.params
    run.progress(0, params["steps"], "loading the image model", force=True)
    generator = load_generator(settings.MIRAGE_DIFFUSION_MODEL)
    prompt = generator.fit_prompt(params["prompt"])
    negative = generator.fit_prompt(params["negative_prompt"])
    limit = generator.max_prompt_tokens
    if prompt.truncated:
        run.notice(
            f"The prompt is longer than the image model's {limit} tokens; "
            f"only this part was used: “{prompt.text}”"
        )
    if negative.truncated:
        run.notice(
            f"The negative prompt is longer than {limit} tokens; only this part was used: “{negative.text}”"
        )

    lora = settings.MIRAGE_DIFFUSION_LORA if params["mode"] == services.FAST else None
    request = ImageRequest(
        prompt=prompt.text,
        negative_prompt=negative.text,
        steps=params["steps"],
        guidance=params["guidance"],
        seed=params["seed"],
        count=params["count"],
        lcm_lora=lora,
    )
    run.progress(0, params["steps"], "denoising", force=True)
    started = time.monotonic()
    try:
        images = generator.generate(
            request, on_step=lambda i, n: run.progress(i, n, f"denoising step {i} of {n}")
        )
    except ModelUnavailable as exc:
        if lora and exc.spec == lora:
            logger.warning("job %s: %s", run.job.pk, exc)
            raise JobFailed(FAST_UNAVAILABLE) from exc
        raise
    seconds = time.monotonic() - started
    steps_done = run.job.progress_total or params["steps"]
    run.progress(steps_done, steps_done, "marking and saving the images", force=True)

    created = timezone.now().isoformat(timespec="seconds")
    files = []
    for index, image in enumerate(images):
        metadata = {
            "Title": "SYNTHETIC medical image (machine-generated)",
            "prompt": prompt.text,
            "negative_prompt": negative.text,
            "model": model_id(settings.MIRAGE_DIFFUSION_MODEL),
            "lora": model_id(lora) if lora else "",
            "mode": params["mode"],
            "seed": str(request.seed + index),
            "steps": str(request.steps),
            "guidance": f"{request.guidance:g}",
            "size": f"{image.width}x{image.height}",
            "Creation Time": created,
            "generation_seconds": f"{seconds:.1f}",
        }
        files.append((png_with_metadata(mark_synthetic(image), metadata), metadata))

    def commit() -> dict:
        stored = [
            services.generated_image_store(job=run.job, index=index, png=png, metadata=metadata)
            for index, (png, metadata) in enumerate(files)
        ]
        return {
            "images": [image.pk for image in stored],
            "prompt_used": prompt.text,
            "seconds": round(seconds, 2),
            "size": generator.size,
            "device": generator.device,
        }

    return commit


def run_description(run: JobRun) -> Callable[[], dict]:
    items = run.job.params["items"]
    budget = settings.MIRAGE_LLM_MAX_NEW_TOKENS
    total = budget * len(items)
    run.progress(0, total, "loading the language model", force=True)
    model, fallback_notice = resolve_language_model(settings.MIRAGE_LLM_MODEL)
    if fallback_notice:
        # The reason names model ids and commands: the log keeps it, the job's reader gets a plain line.
        logger.warning("description job %s: %s", run.job.pk, fallback_notice)
        run.notice(
            f"The configured language model is not installed on this server. The bundled {FALLBACK_LABEL} "
            "answered instead; it is far smaller, so expect a weaker answer."
        )

    written = []  # (item, Answer, seconds) for answers not cached yet
    for number, item in enumerate(items):
        if description_cached(query=item["query"], model=model.spec, k=item["k"], sources=item["sources"]):
            continue
        done_before = number * budget
        label = f"writing the description of “{item['query']}”" if len(items) > 1 else "writing"

        def on_token(i: int, n: int, done_before: int = done_before, label: str = label) -> None:
            run.progress(done_before + i, total, f"{label}: token {i} of at most {n}")

        started = time.monotonic()
        instruction = description_instruction(
            item["query"], [source["caption"] for source in item["sources"]]
        )
        answer = model.answer(instruction, max_new_tokens=budget, on_token=on_token)
        written.append((item, answer, time.monotonic() - started))

    def commit() -> dict:
        for item, answer, seconds in written:
            services.description_store(
                query=item["query"],
                k=item["k"],
                sources=item["sources"],
                model_spec=model.spec,
                model_label=model.label,
                is_fallback=bool(fallback_notice),
                prompt=answer.prompt,
                answer=answer.text,
                new_tokens=answer.new_tokens,
                seconds=seconds,
            )
        found = [
            description_cached(query=item["query"], model=model.spec, k=item["k"], sources=item["sources"])
            for item in items
        ]
        return {"descriptions": [description.pk for description in found], "model": model.label}

    return commit


def run_embedding(run: JobRun) -> Callable[[], dict]:
    """Embed the corpus into one space (the `embed` command's work, in the worker). Each batch is
    committed as it goes, so a run cut short resumes where it stopped when the job is retried."""
    config = configured_spaces()[run.job.params["space"]]
    total = 0
    done = 0

    def on_start(count: int) -> None:
        nonlocal total
        total = count
        run.progress(0, count, f"embedding {count} entries into the {config.label}", force=True)

    def on_progress(count: int) -> None:
        nonlocal done
        done += count
        run.progress(done, total, f"embedded {done} of {total}")

    run.progress(0, 0, f"loading the {config.label}'s model", force=True)
    summary = embed_space(
        config=config,
        rebuild=bool(run.job.params.get("rebuild")),
        batch_size=run.job.params.get("batch_size"),
        on_start=on_start,
        on_progress=on_progress,
    )
    return lambda: {
        "space": summary.space,
        "embedded": summary.embedded,
        "failed": summary.failed,
        "index_built": summary.index_built,
    }


RUNNERS: dict[str, Callable[[JobRun], Callable[[], dict]]] = {
    Job.GENERATE: run_generation,
    Job.DESCRIBE: run_description,
    Job.EMBED: run_embedding,
}
