from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from apps.corpus.selectors import corpus_counts
from apps.search.selectors import CHANNEL_LABELS, QueryError, clean_k, clean_page, image_search

EXAMPLE_QUERIES = [
    "chest X-ray with pneumothorax",
    "axial CT of the abdomen",
    "brain MRI",
    "retinal fundus photograph",
    "ultrasound",
]


def search_page(request: HttpRequest) -> HttpResponse:
    context: dict[str, object] = {
        "examples": EXAMPLE_QUERIES,
        "channel_labels": CHANNEL_LABELS,
        "counts": corpus_counts(),
        "q": request.GET.get("q", ""),
        "k": request.GET.get("k", "20"),
    }
    status = 200
    if "q" in request.GET:
        try:
            result = image_search(
                query=request.GET["q"],
                k=clean_k(request.GET.get("k")),
                page=clean_page(request.GET.get("page")),
            )
        except QueryError as exc:
            context["error"] = str(exc)
            status = 400
        else:
            context["result"] = result
            context["k"] = result.k
    return render(request, "search/search.html", context, status=status)
