"""Reads for the comparison: two independent text queries side by side, and the columns of a question
asked on one screen (results, description and synthetic image of each column).

(A query beside its concept arithmetic is `apps.search.selectors.arithmetic_search`.)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from django.http import Http404

from apps.generation.models import Job
from apps.generation.selectors import job_get_for_user, job_status
from apps.search.filters import Filters
from apps.search.params import (
    FUSED,
    Arithmetic,
    QueryError,
    arithmetic_params,
    clean_filters,
    clean_k,
    clean_query,
    ranking_params,
    text_search_params,
)
from apps.search.selectors import SearchResult, arithmetic_search, text_search

COMPARE_K = 12  # results per column: two columns of 12 fit a screen


def compare_params(data: Mapping) -> dict:
    """a, b, k and the filters → the arguments of `compare_queries` (for the page and the API)."""
    return {
        "first": clean_query(data.get("a"), what="first query", field="a"),
        "second": clean_query(data.get("b"), what="second query", field="b"),
        "k": clean_k(data.get("k"), default=COMPARE_K),
        "filters": clean_filters(data),
        **ranking_params(data),
    }


def compare_queries(
    *,
    first: str,
    second: str,
    k: int = COMPARE_K,
    filters: Filters,
    user=None,
    ranking: str = FUSED,
    description: str = "",
) -> tuple[SearchResult, SearchResult]:
    """Two text searches with the same K, filters and ranking, for the left and right columns."""
    common = {"k": k, "filters": filters, "user": user, "ranking": ranking, "description": description}
    return text_search(query=first, **common), text_search(query=second, **common)


# --- One screen per question -------------------------------------------------------------------------

ONE, PAIR, ARITHMETIC = "one", "pair", "arith"


@dataclass(frozen=True)
class Column:
    result: SearchResult
    described_as: str  # the query its description is of: its words, or "q + add − sub"
    prompt: str  # what its synthetic image is made from (for arithmetic "q add", as the paper's code does)


@dataclass(frozen=True)
class Question:
    """One question asked on one screen: its columns, and what a description job is given for them."""

    mode: str
    columns: list[Column]
    queries: list[str] | None = None  # for `description_submit`: the columns' queries …
    arithmetic: Arithmetic | None = None  # … or the concept arithmetic, whose columns it describes


def question_search(*, mode: str, data: Mapping, user=None) -> Question:
    """The columns of a question, searched as the search page (ONE) or the comparison page (PAIR,
    ARITHMETIC) searches them, from the same parameters; a QueryError names what to change."""
    if mode == ONE:
        params = text_search_params(data)
        params["page"] = 1  # one screen: the first page of results beside the description and image
        result = text_search(**params, user=user)
        return Question(
            mode=mode, columns=[Column(result, result.query, result.query)], queries=[result.query]
        )
    if mode == PAIR:
        left, right = compare_queries(**compare_params(data), user=user)
        columns = [Column(result, result.query, result.query) for result in (left, right)]
        return Question(mode=mode, columns=columns, queries=[left.query, right.query])
    if mode == ARITHMETIC:
        params = arithmetic_params(data, default_k=COMPARE_K)
        terms = params["terms"]
        left, right = arithmetic_search(**params, user=user)
        columns = [Column(left, terms.query, terms.query), Column(right, terms.label, terms.prompt)]
        return Question(mode=mode, columns=columns, arithmetic=terms)
    raise QueryError("Unknown kind of question; use one, pair or arith.", field="mode")


@dataclass
class ColumnParts:
    """A column's description and synthetic-image jobs, where this user asked for them (None: not asked)."""

    column: Column
    describe: Job | None = None
    image: Job | None = None


def _own_job(user, value: object, kind: str) -> Job | None:
    """The user's own job of `kind` named by a URL parameter; None for anyone else's, or for none (a
    shared question's address shows its results to others, never the asker's jobs)."""
    try:
        job = job_get_for_user(user, int(value))
    except (TypeError, ValueError, Http404):
        return None
    return job if job.kind == kind else None


def question_parts(*, question: Question, user, describe: object, images: list) -> list[ColumnParts]:
    """Each column with the jobs of it named by the question's address (`describe`: one description job
    for all columns; `images`: one generation job per column, in column order). A job is shown in a
    column only when it was asked for that column: the same query, the same prompt."""
    parts = [ColumnParts(column) for column in question.columns]
    description = _own_job(user, describe, Job.DESCRIBE)
    if description is not None:
        items = description.params.get("items", [])
        if [item["query"] for item in items] == [column.described_as for column in question.columns]:
            for part in parts:
                part.describe = description
    for part, value in zip(parts, images, strict=False):
        image = _own_job(user, value, Job.GENERATE)
        if image is not None and image.params.get("prompt") == part.column.prompt:
            part.image = image
    return parts


def question_part_status(*, job: Job, column: int, user) -> dict:
    """What one column shows of a job (the live status of templates/generation/_job_status.html): for a
    description job, that column's description alone."""
    status = job_status(job=job, user=user)
    if job.kind == Job.DESCRIBE:
        items = job.params.get("items", [])
        query = items[column]["query"] if 0 <= column < len(items) else None
        own = [view for view in status["descriptions"] if view.description.query == query]
        status["descriptions"] = own[:1]
    return status
