"""Reads for generation and descriptions: the access helper for jobs, their results, cached answers."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass

from django.conf import settings
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from apps.core.errors import UserError
from apps.corpus.models import Image
from apps.corpus.selectors import images_visible_to
from apps.corpus.spaces import CAPTION
from apps.generation.models import Description, Job
from apps.ml.describer import check_language_model, fallback_spec, model_label
from apps.ml.generator import check_diffusion_model, check_lora
from apps.ml.prompts import description_instruction
from apps.ml.specs import short_name
from apps.search.filters import Filters
from apps.search.params import Arithmetic
from apps.search.selectors import GOOD, QueryError, SearchResult, arithmetic_search, clean_query, text_search

CITATION = re.compile(r"\[(\d{1,2})\]")
# Captions a description is grounded in, per query: the range and the default.
K_RANGE = (1, 10)
DEFAULT_K = 3
# Page sizes of the job and generated-image lists, the pages' and the API's.
JOBS_PAGE = 50
IMAGES_PAGE = 48


@dataclass(frozen=True)
class Availability:
    """What this server can run, from the model files present; nothing is loaded (web processes never
    load the diffusion or language models). The names are for administrators; students read the
    `*_unavailable` sentences only."""

    generate: bool
    fast: bool  # the LCM-LoRA adapter of fast mode
    describe: bool  # the configured language model, or the bundled fallback
    describe_fallback: bool  # only the fallback is here: it will answer
    diffusion_label: str
    llm_label: str
    missing: tuple[tuple[str, str, str], ...]  # (name for `models pull`, spec, why), for administrators

    def pull_command(self, *names: str) -> str:
        """The command that installs those of `names` that are missing here ("" when none is)."""
        wanted = [name for name, _, _ in self.missing if name in names]
        return f"manage.py models pull {' '.join(wanted)}" if wanted else ""

    @property
    def generate_command(self) -> str:
        return self.pull_command("diffusion", "lora")

    @property
    def describe_command(self) -> str:
        return self.pull_command("llm")


GENERATE_UNAVAILABLE = "Generating images is not available on this server."
FAST_UNAVAILABLE = "Fast mode is not available on this server; quality mode is."
DESCRIBE_UNAVAILABLE = "Writing descriptions is not available on this server."


def model_availability() -> Availability:
    """Which generation models are installed here: file checks only, as `manage.py models check` does."""
    diffusion = check_diffusion_model(settings.MIRAGE_DIFFUSION_MODEL)
    lora = check_lora(settings.MIRAGE_DIFFUSION_LORA) if settings.MIRAGE_DIFFUSION_LORA else None
    llm = check_language_model(settings.MIRAGE_LLM_MODEL)
    fallback = fallback_spec()
    fallback_ok = not llm.ok and fallback is not None and check_language_model(fallback).ok
    missing = [
        (name, status.spec, status.detail)
        for name, status in (("diffusion", diffusion), ("lora", lora), ("llm", llm))
        if status is not None and not status.ok
    ]
    return Availability(
        generate=diffusion.ok,
        fast=diffusion.ok and lora is not None and lora.ok,
        describe=llm.ok or fallback_ok,
        describe_fallback=fallback_ok,
        diffusion_label=short_name(settings.MIRAGE_DIFFUSION_MODEL),
        llm_label=model_label(
            settings.MIRAGE_LLM_MODEL if llm.ok else (fallback or settings.MIRAGE_LLM_MODEL)
        ),
        missing=tuple(missing),
    )


def job_get_for_user(user, pk: int) -> Job:
    """The access helper for one job: its owner's alone. 404 for anyone else, anonymous included."""
    if user is None or not user.is_authenticated:
        raise Http404("No such job.")
    job = Job.objects.filter(pk=pk, owner=user).first()
    if job is None:
        raise Http404("No such job.")
    return job


def jobs_for_user(user) -> QuerySet[Job]:
    return Job.objects.filter(owner=user).order_by("-created_at", "-pk")


def generated_images_for_user(user) -> QuerySet[Image]:
    """The user's own synthetic images in any moderation state, newest first."""
    return (
        images_visible_to(user)
        .filter(owner=user, is_synthetic=True)
        .select_related("generation")
        .order_by("-created_at", "-pk")
    )


def job_images(job: Job, user) -> list[Image]:
    """The images a generation job stored, in batch order, as far as `user` may still see them."""
    ids = job.result.get("images", [])
    found = {
        image.pk: image for image in images_visible_to(user).filter(pk__in=ids).select_related("generation")
    }
    return [found[pk] for pk in ids if pk in found]


def job_quiet_seconds(job: Job) -> int | None:
    """Seconds since a running job's worker last gave a sign of life (None unless running)."""
    if job.status != Job.RUNNING or job.heartbeat_at is None:
        return None
    return int((timezone.now() - job.heartbeat_at).total_seconds())


def job_status(*, job: Job, user) -> dict:
    """What the live status of a job shows (templates/generation/_job_status.html), for every page that
    shows one: the job page and the one-screen question page."""
    quiet = job_quiet_seconds(job)
    worth_telling = quiet is not None and quiet > settings.MIRAGE_JOB_LEASE_SECONDS / 2
    return {
        "job": job,
        "images": job_images(job, user) if job.kind == Job.GENERATE else [],
        "descriptions": job_descriptions(job, user) if job.kind == Job.DESCRIBE else [],
        # Heartbeats come every lease/4 seconds; half a lease of silence is worth telling the user.
        "worker_quiet": quiet if worth_telling else None,
        "queue_ahead": jobs_ahead(job),
        "max_attempts": Job.MAX_ATTEMPTS,
        "available": model_availability(),
    }


def jobs_ahead(job: Job) -> int | None:
    """How many queued jobs (anyone's) were submitted before a queued job; None unless it is queued. The
    worker serves owners in turn, so a job may start before some of them."""
    if job.status != Job.QUEUED:
        return None
    return Job.objects.filter(status=Job.QUEUED, created_at__lt=job.created_at).count()


# What a description is grounded in: real, approved images only (a generated image's caption is its
# prompt, not a finding), as an anonymous visitor sees them, filtered in SQL.
REAL_ONLY = Filters(origin="real")


def _numbered_sources(result: SearchResult) -> list[dict]:
    """The hits as numbered sources, each with its caption-space similarity when that channel found it."""
    sources = []
    for n, hit in enumerate(result.hits, start=1):
        found = hit.channels.get(CAPTION)
        similarity = None if found is None else round(float(found.similarity), 3)
        sources.append(
            {"n": n, "image_id": hit.image.pk, "caption": hit.image.caption, "similarity": similarity}
        )
    return sources


def description_preview(
    *, queries: list[str] | None = None, arithmetic: Arithmetic | None = None, k: int
) -> list[dict]:
    """What a description of each query (two for a comparison) would be grounded in, as things stand:
    `[{"query", "sources", "instruction"}]`. A blank second query is no query. With `arithmetic`, the
    two columns of the dual search: q from its own top-k captions, and "q + add − sub" from the top-k
    captions of the combined vector (the captions that column shows, as the paper's code does). The
    checks of the page, the API and `description_submit`: a UserError names the field (q, q2 or k)."""
    if not K_RANGE[0] <= k <= K_RANGE[1]:
        raise UserError(f"Use from {K_RANGE[0]} to {K_RANGE[1]} captions.", field="k")
    if arithmetic is not None:
        original, modified = arithmetic_search(terms=arithmetic, k=k, filters=REAL_ONLY)
        pairs = [(arithmetic.query, original), (arithmetic.label, modified)]
        return [_preview(query, result) for query, result in pairs]
    queries = (queries or [])[:1] + [query for query in (queries or [])[1:] if (query or "").strip()]
    if not 1 <= len(queries) <= 2:
        raise UserError("Describe one condition, or compare two.")
    cleaned = []
    for index, query in enumerate(queries):
        try:
            cleaned.append(clean_query(query, what="query" if index == 0 else "second query"))
        except QueryError as exc:
            raise UserError(str(exc), status=exc.status, field="q" if index == 0 else "q2") from None
    return [_preview(query, text_search(query=query, k=k, filters=REAL_ONLY)) for query in cleaned]


def _preview(query: str, result: SearchResult) -> dict:
    """One column's sources and prompt; `weak` when the search itself judged its matches weak (the
    similarity floors of apps.search), so the page warns before the answer."""
    sources = _numbered_sources(result)
    captions = [source["caption"] for source in sources]
    return {
        "query": query,
        "sources": sources,
        "instruction": description_instruction(query, captions),
        "weak": result.match != GOOD,
    }


def captions_key(sources: list[dict]) -> str:
    """The cache key's caption part: which images, in which order, with which captions."""
    cited = [[source["image_id"], source["caption"]] for source in sources]
    return hashlib.sha256(json.dumps(cited, ensure_ascii=False).encode()).hexdigest()


def description_cached(*, query: str, model: str, k: int, sources: list[dict]) -> Description | None:
    return Description.objects.filter(
        query=query, model=model, k=k, captions_key=captions_key(sources)
    ).first()


@dataclass
class CitedSource:
    n: int
    caption: str
    image: Image | None  # None when the user may no longer open it


@dataclass
class DescriptionView:
    description: Description
    sources: list[CitedSource]
    segments: list[tuple[str, CitedSource | None]]  # the answer as text runs and citation links


def job_descriptions(job: Job, user) -> list[DescriptionView]:
    ids = job.result.get("descriptions", [])
    by_id = Description.objects.in_bulk(ids)
    descriptions = [by_id[pk] for pk in ids if pk in by_id]
    image_ids = [source["image_id"] for d in descriptions for source in d.sources]
    visible = images_visible_to(user).in_bulk(image_ids)
    views = []
    for description in descriptions:
        sources = [
            CitedSource(n=s["n"], caption=s["caption"], image=visible.get(s["image_id"]))
            for s in description.sources
        ]
        views.append(DescriptionView(description, sources, answer_segments(description.answer, sources)))
    return views


def answer_segments(answer: str, sources: list[CitedSource]) -> list[tuple[str, CitedSource | None]]:
    """Split an answer at its citations: "[2]" becomes a link to source 2 when there is one."""
    by_number = {source.n: source for source in sources}
    segments: list[tuple[str, CitedSource | None]] = []
    position = 0
    for match in CITATION.finditer(answer):
        source = by_number.get(int(match.group(1)))
        if source is None:
            continue
        if match.start() > position:
            segments.append((answer[position : match.start()], None))
        segments.append((match.group(0), source))
        position = match.end()
    if position < len(answer):
        segments.append((answer[position:], None))
    return segments
