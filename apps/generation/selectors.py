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
from apps.core.requests import once_per_request
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


def model_availability_for(request) -> Availability:
    """`model_availability`, checked once per request: one page asks in several places (each search
    column's actions, the ask-again button, the image page's actions)."""
    return once_per_request(request, "model_availability", model_availability)


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


# --- Citations ---------------------------------------------------------------------------------------

# "[2]", "[1, 3]", "[1-3]" / "[1–3]": the ways a model writes which of the captions 1…k it used.
CITATION = re.compile(r"\[(\d{1,3}(?:\s*[,;–-]\s*\d{1,3})*)\]")
# A sentence ends at . ! or ? (then closing quotes or brackets, then its citations) before white space
# or the end of the text; so "2.5 cm" ends none, and "space. [1]" gives [1] to the sentence it follows.
SENTENCE_END = re.compile(r"[.!?]+[\"”’)]*(?:\s*\[[\d\s,;–-]{1,20}\])*(?=\s|$)")
# The word before a full stop that ends no sentence ("e.g. a pneumothorax").
ABBREVIATION = re.compile(r"\b(?:e\.g|i\.e|vs|cf|approx|fig|figs|et al|dr)\.$", re.IGNORECASE)
LETTER = re.compile(r"[^\W\d_]")
MAX_RANGE = 20  # "[1-99]" cites no more than this many numbers


def _numbers(group: str) -> list[int]:
    """The numbers one citation cites: "1, 3" → [1, 3]; "1-3" → [1, 2, 3]."""
    numbers: list[int] = []
    for part in re.split(r"\s*[,;]\s*", group.strip()):
        low, _, high = re.sub(r"\s*[–-]\s*", "-", part).partition("-")
        first, last = int(low), int(high or low)
        numbers.extend(range(first, min(max(first, last), first + MAX_RANGE - 1) + 1))
    return numbers


def _sentences(answer: str) -> list[tuple[str, bool]]:
    """The answer's sentences, each with whether it begins a line; a line break ends a sentence too
    (models write lists). A piece with no letter (a citation alone on a line) joins the one before."""
    sentences: list[tuple[str, bool]] = []
    for line in answer.splitlines():
        start = 0
        ends = [match.end() for match in SENTENCE_END.finditer(line)]
        for end in [*ends, len(line)]:
            piece = line[start:end].strip()
            if end < len(line) and ABBREVIATION.search(CITATION.sub("", line[:end]).rstrip('"”’) ')):
                continue
            starts_line = start == 0
            start = end
            if not piece:
                continue
            if sentences and not LETTER.search(piece):
                text, began = sentences[-1]
                sentences[-1] = (f"{text} {piece}", began)
            else:
                sentences.append((piece, starts_line))
    return sentences


@dataclass(frozen=True)
class CheckedSentence:
    text: str
    starts_line: bool  # the answer has a line break before it
    parts: tuple[tuple[str, int | None], ...]  # text runs, and citations as (text, number cited)
    cited: tuple[int, ...]  # numbers of captions it cites that exist
    out_of_range: tuple[int, ...]  # numbers it cites that no caption has

    @property
    def is_cited(self) -> bool:
        return bool(self.cited)


@dataclass(frozen=True)
class CitationCheck:
    """How an answer cites the k captions it was given: per sentence, which exist and which do not."""

    sentences: tuple[CheckedSentence, ...]
    sources: int

    @property
    def cited_sentences(self) -> int:
        return sum(sentence.is_cited for sentence in self.sentences)

    @property
    def cited_share(self) -> float | None:
        """Sentences citing a caption that exists, of all sentences; None for an empty answer."""
        if not self.sentences:
            return None
        return round(self.cited_sentences / len(self.sentences), 3)

    @property
    def has_citations(self) -> bool:
        return any(sentence.cited or sentence.out_of_range for sentence in self.sentences)

    @property
    def out_of_range(self) -> list[int]:
        return sorted({n for sentence in self.sentences for n in sentence.out_of_range})

    @property
    def uncited(self) -> list[str]:
        return [sentence.text for sentence in self.sentences if not sentence.is_cited]


def citation_check(*, answer: str, sources: int) -> CitationCheck:
    """Check each citation of `answer` against its `sources` captions (numbered 1…sources): the one
    reading of citations, for the worker storing a description and for the page and API showing it."""
    checked = []
    for text, starts_line in _sentences(answer):
        parts: list[tuple[str, int | None]] = []
        cited: list[int] = []
        missing: list[int] = []
        position = 0
        for match in CITATION.finditer(text):
            if match.start() > position:
                parts.append((text[position : match.start()], None))
            numbers = _numbers(match.group(1))
            if len(numbers) == 1:
                parts.append((match.group(0), numbers[0]))
            else:  # "[1, 3]" as "[", "1", ", ", "3", "]", each number its own link
                parts.append(("[", None))
                for index, piece in enumerate(re.split(r"(\d+)", match.group(1))):
                    parts.append((piece, int(piece)) if index % 2 else (piece, None))
                parts.append(("]", None))
                parts = [part for part in parts if part[0]]
            for n in numbers:
                (cited if 1 <= n <= sources else missing).append(n)
            position = match.end()
        if position < len(text):
            parts.append((text[position:], None))
        checked.append(
            CheckedSentence(
                text=text,
                starts_line=starts_line,
                parts=tuple(parts),
                cited=tuple(dict.fromkeys(cited)),
                out_of_range=tuple(dict.fromkeys(missing)),
            )
        )
    return CitationCheck(sentences=tuple(checked), sources=sources)


# --- Descriptions as shown -----------------------------------------------------------------------------


@dataclass
class CitedSource:
    n: int
    caption: str
    image: Image | None  # None when the user may no longer open it


@dataclass
class AnswerPart:
    text: str
    n: int | None = None  # the number cited, when this part is a citation
    source: CitedSource | None = None  # the caption it cites, when there is one

    @property
    def is_bad(self) -> bool:
        """A citation of a caption the model was not given."""
        return self.n is not None and self.source is None


@dataclass
class AnswerSentence:
    parts: list[AnswerPart]
    is_cited: bool
    starts_line: bool


@dataclass
class DescriptionView:
    description: Description
    sources: list[CitedSource]
    check: CitationCheck
    sentences: list[AnswerSentence]  # the answer, its citations resolved to their sources
    weak: bool  # its captions matched the request only weakly (the search's floors)


def job_descriptions(job: Job, user) -> list[DescriptionView]:
    ids = job.result.get("descriptions", [])
    by_id = Description.objects.in_bulk(ids)
    items = job.params.get("items", [])
    found = [(by_id.get(pk), items[index] if index < len(items) else {}) for index, pk in enumerate(ids)]
    descriptions = [(description, item) for description, item in found if description is not None]
    image_ids = [source["image_id"] for d, _ in descriptions for source in d.sources]
    visible = images_visible_to(user).in_bulk(image_ids)
    views = []
    for description, item in descriptions:
        sources = [
            CitedSource(n=s["n"], caption=s["caption"], image=visible.get(s["image_id"]))
            for s in description.sources
        ]
        check = citation_check(answer=description.answer, sources=len(sources))
        by_number = {source.n: source for source in sources}
        sentences = [
            AnswerSentence(
                parts=[AnswerPart(text, n, by_number.get(n) if n else None) for text, n in s.parts],
                is_cited=s.is_cited,
                starts_line=s.starts_line,
            )
            for s in check.sentences
        ]
        views.append(
            DescriptionView(description, sources, check, sentences, weak=bool(item.get("weak", False)))
        )
    return views
