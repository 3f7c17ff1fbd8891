"""Writes for generation and descriptions: submitting and cancelling jobs, storing what they made.

Submission runs in the web process and checks every parameter (a JobError carries the message for the
page); the models only ever run on the worker.

The GPU queue is bounded, and the same for pages and API because both submit here: per user, a few
jobs waiting or running at once and an hourly quota per kind; for everyone, a cap on queued jobs
(503, "busy, try later"). Submissions take turns on one transaction-scoped advisory lock while they
count and insert, so two requests at the same instant cannot both take the last place.
"""

from __future__ import annotations

import hashlib
import io
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from PIL import Image as PILImage

from apps.core.errors import UserError
from apps.corpus import imaging
from apps.corpus.licences import NONE
from apps.corpus.modality import derive_modality
from apps.corpus.models import Image
from apps.corpus.services import dataset_get_or_create, store_file
from apps.corpus.spaces import configured_spaces
from apps.generation.models import Description, GeneratedImage, Job
from apps.generation.selectors import (
    DEFAULT_K,
    DESCRIBE_UNAVAILABLE,
    FAST_UNAVAILABLE,
    GENERATE_UNAVAILABLE,
    captions_key,
    citation_check,
    description_cached,
    description_preview,
    model_availability,
)
from apps.search.params import Arithmetic

logger = logging.getLogger(__name__)

# The django-q2 task that wakes a worker (tasks.run_next_job), named by its path: tasks.py sits above
# this module and imports it, not the other way round.
RUN_NEXT_JOB = "apps.generation.tasks.run_next_job"
TASK_GROUP = "mirage-jobs"
# The advisory lock submissions take turns on ("MJ"; one key, apart from the leases' two-key locks).
SUBMIT_LOCK = 0x4D4A
QUOTA_WINDOW = timedelta(hours=1)

FAST = "fast"
QUALITY = "quality"


@dataclass(frozen=True)
class ModeRules:
    label: str
    steps: tuple[int, int, int]  # minimum, maximum, default
    guidance: tuple[float, float, float]


# Fast is the paper's demo (LCM-LoRA, 4–8 steps, low guidance); quality is the model's own scheduler.
MODES = {
    FAST: ModeRules("fast (LCM-LoRA)", steps=(4, 8, 4), guidance=(1.0, 3.0, 1.5)),
    QUALITY: ModeRules("quality", steps=(25, 50, 30), guidance=(5.0, 9.0, 7.5)),
}
MAX_COUNT = 4
MAX_SEED = 2**32 - 1
MAX_PROMPT_CHARS = 1000
GENERATED_DATASET = "generated"


class JobError(UserError):
    """A request the user must change; `field` names the form field it concerns, if one, and `status`
    is the HTTP status for it."""

    def __init__(self, message: str, field: str | None = None, *, status: int = 400) -> None:
        super().__init__(message, status=status, field=field)


def _hourly_quota(kind: str) -> int:
    if kind == Job.GENERATE:
        return settings.MIRAGE_GENERATIONS_PER_HOUR
    return settings.MIRAGE_DESCRIPTIONS_PER_HOUR


def _check_limits(owner, kind: str) -> None:
    """The queue's limits for one more job of `kind` from `owner`; call under SUBMIT_LOCK. An admin's
    embedding job is bounded by the global queue cap only."""
    if kind != Job.EMBED:
        _check_user_limits(owner, kind)
    waiting = Job.objects.filter(status=Job.QUEUED).count()
    if waiting >= settings.MIRAGE_QUEUE_MAX:
        raise JobError(
            f"The workers are busy: {waiting} jobs are waiting. Nothing was queued; please try again in a "
            "few minutes.",
            status=503,
        )


def _check_user_limits(owner, kind: str) -> None:
    mine = Job.objects.filter(owner=owner)
    active = mine.filter(status__in=(Job.QUEUED, Job.RUNNING)).count()
    if active >= settings.MIRAGE_JOBS_ACTIVE_PER_USER:
        raise JobError(
            f"You already have {active} jobs waiting or running; when one has finished (or you cancel one), "
            "start the next.",
            status=429,
        )
    # Answers from the description cache never reach the worker, so they do not count.
    since = timezone.now() - QUOTA_WINDOW
    recent = mine.filter(kind=kind, created_at__gte=since).exclude(result__contains={"cached": True})
    quota = _hourly_quota(kind)
    if recent.count() >= quota:
        oldest = recent.order_by("created_at").first()
        free_at = (oldest.created_at + QUOTA_WINDOW).strftime("%H:%M UTC") if oldest else "in an hour"
        what = "image generations" if kind == Job.GENERATE else "descriptions"
        raise JobError(
            f"You have started {quota} {what} in the past hour, the most allowed; the next can start at "
            f"{free_at}.",
            status=429,
        )


def _queue_job(*, owner, kind: str, params: dict) -> Job:
    """Insert a queued job if the limits allow it, and wake a worker once it is committed."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SUBMIT_LOCK])
        _check_limits(owner, kind)
        job = Job.objects.create(kind=kind, owner=owner, params=params)
        _wake_worker_after_commit()
    return job


def wake_worker() -> None:
    """Ask a worker to run the next queued job. The job row is the work; this task only rings the bell,
    so a lost or duplicated one costs nothing."""
    from django_q.tasks import async_task

    try:
        async_task(RUN_NEXT_JOB, group=TASK_GROUP)
    except Exception:
        # The job row is already stored; the minute schedule wakes a worker when the broker is back.
        logger.exception("could not queue a worker wake-up; the schedule will pick the job up")


def _wake_worker_after_commit() -> None:
    # After commit: with a Redis broker the worker could otherwise look before the row exists.
    transaction.on_commit(wake_worker)


def generation_params(
    *,
    prompt: str,
    negative_prompt: str = "",
    mode: str = FAST,
    steps: int | None = None,
    guidance: float | None = None,
    seed: int | None = None,
    count: int = 1,
) -> dict:
    """The checked parameters of a generation (defaults filled in, a random seed chosen), or JobError."""
    prompt = " ".join((prompt or "").split())
    negative_prompt = " ".join((negative_prompt or "").split())
    if not prompt:
        raise JobError("Describe the image to generate, e.g. “chest X-ray with pneumothorax”.", "prompt")
    for name, text in (("prompt", prompt), ("negative_prompt", negative_prompt)):
        if len(text) > MAX_PROMPT_CHARS:
            raise JobError(f"Keep it under {MAX_PROMPT_CHARS} characters (it has {len(text)}).", name)
    if mode not in MODES:
        raise JobError("Choose the fast or the quality mode.", "mode")
    rules = MODES[mode]
    low, high, default = rules.steps
    steps = default if steps is None else steps
    if not low <= steps <= high:
        raise JobError(f"In {rules.label} mode, steps must be from {low} to {high}.", "steps")
    low_g, high_g, default_g = rules.guidance
    guidance = default_g if guidance is None else float(guidance)
    if not low_g <= guidance <= high_g:
        raise JobError(f"In {rules.label} mode, guidance must be from {low_g:g} to {high_g:g}.", "guidance")
    if seed is None:
        seed = secrets.randbelow(MAX_SEED + 1)
    if not 0 <= seed <= MAX_SEED:
        raise JobError(f"The seed must be a whole number from 0 to {MAX_SEED}.", "seed")
    if not 1 <= count <= MAX_COUNT:
        raise JobError(f"Generate from 1 to {MAX_COUNT} images at a time.", "count")
    return {
        "prompt": prompt,
        "negative_prompt": negative_prompt,
        "mode": mode,
        "steps": steps,
        "guidance": guidance,
        "seed": seed,
        "count": count,
    }


def generation_submit(*, owner, **params) -> Job:
    """Queue a generation job for `owner`; the parameters are those of `generation_params`. Refused up
    front (503) when the model files are not here, rather than queued to fail on the worker."""
    available = model_availability()
    if not available.generate:
        raise JobError(GENERATE_UNAVAILABLE, status=409)
    checked = generation_params(**params)
    if checked["mode"] == FAST and not available.fast:
        raise JobError(FAST_UNAVAILABLE, "mode", status=409)
    return _queue_job(owner=owner, kind=Job.GENERATE, params=checked)


class WeakMatch(JobError):
    """The captions match the request only weakly and the caller asked to be told first: nothing was
    queued. `previews` are the captions and prompts found (description_preview's), for the page."""

    def __init__(self, previews: list[dict]) -> None:
        weak = [preview["query"] for preview in previews if preview["weak"]]
        super().__init__(
            f"The captions found for “{'”, “'.join(weak)}” match only weakly, so a description written from "
            "them may describe other findings. Nothing was started; try other words, or write it anyway.",
            status=409,
        )
        self.previews = previews


def description_submit(
    *,
    owner,
    queries: list[str] | None = None,
    arithmetic: Arithmetic | None = None,
    k: int = DEFAULT_K,
    unless_weak: bool = False,
) -> Job:
    """A description of each query (two for a comparison, or the two columns of a concept arithmetic)
    from its top-k retrieved captions.

    Retrieval happens here, so the page can cite exactly the captions the model was given; each item
    keeps whether its captions matched only weakly, so the answer is shown under that warning. With
    `unless_weak`, a weak match queues nothing and raises WeakMatch (the page asks first). When every
    answer is cached for the configured model, the job is finished at once and no worker is involved.
    """
    previews = description_preview(queries=queries, arithmetic=arithmetic, k=k)
    items = []
    for index, preview in enumerate(previews):
        if not preview["sources"]:
            raise JobError(
                f"No image captions matched “{preview['query']}”, so there is nothing to ground a "
                "description in.",
                "q" if index == 0 else "q2",
            )
        items.append(
            {"query": preview["query"], "k": k, "sources": preview["sources"], "weak": preview["weak"]}
        )
    if unless_weak and any(preview["weak"] for preview in previews):
        raise WeakMatch(previews)

    cached = [
        description_cached(query=item["query"], model=settings.MIRAGE_LLM_MODEL, k=k, sources=item["sources"])
        for item in items
    ]
    params = {"items": items}
    if all(cached):
        now = timezone.now()
        return Job.objects.create(
            kind=Job.DESCRIBE,
            owner=owner,
            params=params,
            status=Job.SUCCEEDED,
            result={"descriptions": [d.pk for d in cached], "model": cached[0].model_label, "cached": True},
            progress_message="answered from the cache",
            started_at=now,
            finished_at=now,
        )
    if not model_availability().describe:
        raise JobError(DESCRIBE_UNAVAILABLE, status=409)
    return _queue_job(owner=owner, kind=Job.DESCRIBE, params=params)


def embedding_submit(*, owner, space: str, rebuild: bool = False, batch_size: int | None = None) -> Job:
    """Queue the embedding of every corpus entry lacking a vector in `space` for the GPU worker (staff
    only: it may run for hours); its job page shows progress as for any job."""
    if not owner.is_staff:
        raise JobError("Only staff may queue the embedding of the corpus.", status=403)
    if space not in configured_spaces():
        raise JobError(
            f"Unknown space {space!r}; use one of {', '.join(sorted(configured_spaces()))}.", "space"
        )
    params = {"space": space, "rebuild": rebuild, "batch_size": batch_size}
    return _queue_job(owner=owner, kind=Job.EMBED, params=params)


def job_cancel(*, job: Job) -> Job:
    """A queued job is cancelled at once; a running one stops at its worker's next step."""
    with transaction.atomic():
        job = Job.objects.select_for_update().get(pk=job.pk)
        if job.status == Job.QUEUED:
            job.status, job.finished_at = Job.CANCELLED, timezone.now()
            job.save(update_fields=["status", "finished_at"])
        elif job.status == Job.RUNNING:
            job.cancel_requested = True
            job.save(update_fields=["cancel_requested"])
        else:
            raise JobError(f"This job has already finished ({job.get_status_display()}).", status=409)
    return job


def synthetic_image_store(*, owner, png: bytes, caption: str, external_id: str) -> Image:
    """A generated picture as a corpus image: synthetic, owned by its author, pending moderation, in the
    "generated" dataset. Files are named by content hash, as the importers name theirs."""
    picture = PILImage.open(io.BytesIO(png))
    sha = hashlib.sha256(png).hexdigest()
    thumb = io.BytesIO()
    imaging.make_thumbnail(picture).convert("RGB").save(thumb, format="JPEG", quality=85)
    dataset = dataset_get_or_create(
        slug=GENERATED_DATASET,
        name="Generated images",
        description="Synthetic images made by the text-to-image model on request; not real patients.",
    )
    image = Image(
        dataset=dataset,
        external_id=external_id,
        caption=caption,
        modality=derive_modality(caption, [], []),
        licence=NONE,
        attribution="Generated by MIRAGE; not a real patient image.",
        is_synthetic=True,
        owner=owner,
        moderation_state=Image.PENDING,
        width=picture.width,
        height=picture.height,
        format="PNG",
        sha256=sha,
    )
    image.file.name = store_file(f"images/{sha[:2]}/{sha}.png", png)
    image.thumbnail.name = store_file(f"thumbs/{sha[:2]}/{sha}.jpg", thumb.getvalue())
    image.save()
    return image


def generated_image_store(*, job: Job, index: int, png: bytes, metadata: dict[str, str]) -> Image:
    """One output of a generation job, with its provenance row."""
    image = synthetic_image_store(
        owner=job.owner,
        png=png,
        caption=f"Synthetic image generated from the prompt: {metadata['prompt']}",
        external_id=f"job{job.pk}-{index + 1}",
    )
    GeneratedImage.objects.create(
        image=image, job=job, index=index, seed=int(metadata["seed"]), metadata=metadata
    )
    return image


def description_store(
    *,
    query: str,
    k: int,
    sources: list[dict],
    model_spec: str,
    model_label: str,
    is_fallback: bool,
    prompt: str,
    answer: str,
    new_tokens: int,
    seconds: float,
) -> Description:
    """Cache an answer with the share of its sentences that cite a caption it was given; an identical
    one stored meanwhile (two jobs, same question) is kept instead."""
    key = captions_key(sources)
    cited_share = citation_check(answer=answer, sources=len(sources)).cited_share
    try:
        with transaction.atomic():
            return Description.objects.create(
                query=query,
                model=model_spec,
                model_label=model_label,
                k=k,
                captions_key=key,
                sources=sources,
                prompt=prompt,
                answer=answer,
                is_fallback=is_fallback,
                cited_share=cited_share,
                new_tokens=new_tokens,
                seconds=round(seconds, 2),
            )
    except IntegrityError:
        return Description.objects.get(query=query, model=model_spec, k=k, captions_key=key)


def descriptions_forget_image(*, image_id: int) -> int:
    """Delete the cached descriptions that quote this image's caption (a moderator rejected it), so
    that none is shown again or answers from the cache; returns how many went."""
    deleted, _ = Description.objects.filter(sources__contains=[{"image_id": image_id}]).delete()
    return deleted
