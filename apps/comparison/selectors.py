"""Reads for the comparison: two independent text queries side by side.

(A query beside its concept arithmetic is `apps.search.selectors.arithmetic_search`.)
"""

from __future__ import annotations

from collections.abc import Mapping

from apps.search.filters import Filters
from apps.search.params import FUSED, clean_filters, clean_k, clean_query, ranking_params
from apps.search.selectors import SearchResult, text_search

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
