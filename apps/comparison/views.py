"""Two searches side by side: two independent queries, or a query and its concept arithmetic.

The whole state (mode, queries, weights, K, filters) is in the URL, so a comparison can be
bookmarked and shared, and reloading it shows the same page.
"""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode

from apps.comparison.presets import DEMO_PRESETS, PAPER_FIGURE
from apps.comparison.selectors import COMPARE_K, compare_params, compare_queries
from apps.core.ratelimit import rate_limited
from apps.search.filters import filter_choices
from apps.search.params import QueryError, arithmetic_params
from apps.search.selectors import CHANNEL_LABELS, arithmetic_search

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
        "channel_labels": CHANNEL_LABELS,
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
