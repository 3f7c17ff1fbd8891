"""Two searches side by side: two independent queries, or a query and its concept arithmetic.

The whole state (mode, queries, weights, K, filters) is in the URL, so a comparison can be
bookmarked and shared, and reloading it shows the same page.
"""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods

from apps.comparison.presets import DEMO_PRESETS, PAPER_FIGURE
from apps.comparison.selectors import (
    COMPARE_K,
    ONE,
    compare_params,
    compare_queries,
    question_part_status,
    question_parts,
    question_search,
)
from apps.comparison.services import question_submit
from apps.core.ratelimit import rate_limited
from apps.generation.selectors import job_get_for_user, model_availability_for
from apps.search.filters import filter_choices
from apps.search.params import QueryError, arithmetic_params
from apps.search.selectors import arithmetic_search

PAIR = "pair"
ARITHMETIC = "arith"

PAIR_EXAMPLE = {"a": "pneumonia chest x-ray", "b": "normal chest x-ray"}


def _preset(base: str, preset: dict) -> dict:
    terms = {name: preset[name] for name in ("q", "add", "sub")}
    return {**preset, "url": f"{base}?{urlencode({'mode': ARITHMETIC, **terms})}"}


def _submitted(request: HttpRequest) -> bool:
    return any(request.GET.get(name) for name in ("a", "b", "q"))


@rate_limited("search", methods=("GET",), when=_submitted)
def compare_page(request: HttpRequest) -> HttpResponse:
    params = request.GET
    mode = params.get("mode") or PAIR
    base = reverse("comparison:compare")
    context: dict[str, object] = {
        "mode": mode,
        "params": params,
        "k": params.get("k", str(COMPARE_K)),
        "pager_base": None,
        "presets": [_preset(base, preset) for preset in DEMO_PRESETS],
        "paper_figure": _preset(base, PAPER_FIGURE),
        "pair_example_url": f"{base}?{urlencode({'mode': PAIR, **PAIR_EXAMPLE})}",
        **filter_choices(),
    }
    if mode not in (PAIR, ARITHMETIC):
        context["error"] = "Unknown comparison mode; use pair or arith."
        return render(request, "comparison/compare.html", context, status=400)
    if not _submitted(request):
        return render(request, "comparison/compare.html", context)
    try:
        if mode == PAIR:
            left, right = compare_queries(**compare_params(params), user=request.user)
        else:
            left, right = arithmetic_search(
                **arithmetic_params(params, default_k=COMPARE_K), user=request.user
            )
    except QueryError as exc:
        context["error"] = str(exc)
        return render(request, "comparison/compare.html", context, status=exc.status)
    context["columns"] = [left, right]
    return render(request, "comparison/compare.html", context)


# What a question's address holds besides its search: the jobs it started (and the form's token).
JOB_PARAMS = ("describe", "image", "csrfmiddlewaretoken")


def _question_query(data, **jobs) -> str:
    """The question's search parameters (without paging or jobs), with `jobs` added, as a query string."""
    kept = data.copy()
    for name in (*JOB_PARAMS, "page"):
        kept.pop(name, None)
    for name, values in jobs.items():
        kept.setlist(name, values)
    return kept.urlencode()


def _back_url(mode: str, data) -> str:
    """The search or comparison page the question was asked from, as it was."""
    if mode == ONE:
        kept = data.copy()
        kept.pop("mode", None)
        return f"{reverse('search:search')}?{_question_query(kept)}"
    return f"{reverse('comparison:compare')}?{_question_query(data)}"


def _part(request: HttpRequest, job, column: int) -> dict:
    kind = "describe" if job.kind == job.DESCRIBE else "image"
    return question_part_status(job=job, column=column, user=request.user) | {
        "status_id": f"ask-{kind}-{column + 1}",
        "poll_url": reverse("comparison:ask_part", args=[job.pk, column]),
    }


@require_http_methods(["GET", "POST"])
@rate_limited("search", when=lambda request: request.method == "POST" or bool(request.GET))
def ask_page(request: HttpRequest) -> HttpResponse:
    """One screen per question: each column's results, its description and its synthetic image, each
    part appearing when its job has finished. POST starts the jobs and comes back to the question's
    address, which names them (so a reload shows the same page and starts nothing)."""
    data = request.POST if request.method == "POST" else request.GET
    if not data:
        return redirect("search:search")
    mode = data.get("mode") or ONE
    context: dict[str, object] = {
        "mode": mode,
        "params": data,
        "pager_base": None,
        "available": model_availability_for(request),
        "back_url": _back_url(mode, data),
    }
    try:
        question = question_search(mode=mode, data=data, user=request.user)
    except QueryError as exc:
        context["error"] = str(exc)
        return render(request, "comparison/ask.html", context, status=exc.status)
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect(f"{reverse('comparison:ask')}?{_question_query(data)}")
        asked = question_submit(owner=request.user, question=question)
        for problem in asked.problems:
            messages.error(request, problem)
        jobs = {"image": [str(job.pk) if job else "" for job in asked.images]} if any(asked.images) else {}
        if asked.describe is not None:
            jobs["describe"] = [str(asked.describe.pk)]
        return redirect(f"{reverse('comparison:ask')}?{_question_query(data, **jobs)}")

    columns = question_parts(
        question=question, user=request.user, describe=data.get("describe"), images=data.getlist("image")
    )
    shown = [
        {
            "column": parts.column,
            "describe": parts.describe and _part(request, parts.describe, index),
            "image": parts.image and _part(request, parts.image, index),
        }
        for index, parts in enumerate(columns)
    ]
    jobs = [job for parts in columns for job in (parts.describe, parts.image) if job is not None]
    context |= {
        "question": question,
        "columns": shown,
        "asked": bool(jobs),
        # Without JavaScript the page reloads itself while a part is still being made.
        "refreshing": any(not job.is_finished for job in jobs),
    }
    return render(request, "comparison/ask.html", context)


def ask_part(request: HttpRequest, pk: int, column: int) -> HttpResponse:
    """One part of a question's column (its description or its image) alone, polled by htmx while its
    job is unfinished. The job's owner's alone (404 for anyone else)."""
    job = job_get_for_user(request.user, pk)
    return render(request, "comparison/_ask_part.html", {"part": _part(request, job, column)})
