from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from apps.core.ratelimit import rate_limited
from apps.corpus.selectors import corpus_counts, image_get_for_user
from apps.search.filters import filter_choices
from apps.search.params import QueryError, picture_search_params, similar_params, text_search_params
from apps.search.selectors import CHANNEL_LABELS, picture_search, similar_search, text_search

EXAMPLE_QUERIES = [
    "chest X-ray with pneumothorax",
    "axial CT of the abdomen",
    "brain MRI",
    "retinal fundus photograph",
    "ultrasound",
]


def pager_base(params) -> str:
    """The query string of this page without its page number, ready for `page=N` to be appended."""
    kept = params.copy()
    kept.pop("page", None)
    encoded = kept.urlencode()
    return f"{encoded}&" if encoded else ""


def _context(request: HttpRequest, **extra) -> dict[str, object]:
    return {
        "pager_base": pager_base(request.GET),
        "examples": EXAMPLE_QUERIES,
        "channel_labels": CHANNEL_LABELS,
        "counts": corpus_counts(),
        "q": request.GET.get("q", ""),
        "k": request.GET.get("k", "20"),
        "params": request.GET,
        "max_upload_mb": settings.MIRAGE_MAX_UPLOAD_BYTES // 2**20,
        **filter_choices(),
        **extra,
    }


@rate_limited("search", methods=("GET",), when=lambda request: "q" in request.GET)
def search_page(request: HttpRequest) -> HttpResponse:
    """Text search (GET, so every result page can be bookmarked)."""
    context = _context(request)
    status = 200
    if "q" in request.GET:
        try:
            context["result"] = text_search(**text_search_params(request.GET), user=request.user)
        except QueryError as exc:
            context["error"], status = str(exc), exc.status
    return render(request, "search/search.html", context, status=status)


@require_http_methods(["GET", "POST"])
@rate_limited("image_search", methods=("POST",))
def image_query_page(request: HttpRequest) -> HttpResponse:
    """Search by an uploaded image, optionally with a text modifier (a composed query)."""
    context = _context(request, mode="image", params=request.POST, pager_base=None)
    if request.method == "GET":
        return render(request, "search/search.html", context)
    try:
        params = picture_search_params({**request.POST.dict(), **request.FILES.dict()})
        result = picture_search(**params, user=request.user)
    except QueryError as exc:
        return render(request, "search/search.html", {**context, "error": str(exc)}, status=exc.status)
    return render(request, "search/search.html", {**context, "result": result})


@rate_limited("search")
def similar_page(request: HttpRequest, pk: int) -> HttpResponse:
    """ "More like this" for a stored image."""
    image = image_get_for_user(request.user, pk)
    context = _context(request, mode="similar", source=image)
    try:
        context["result"] = similar_search(image=image, **similar_params(request.GET), user=request.user)
    except QueryError as exc:
        context["error"] = str(exc)
        return render(request, "search/search.html", context, status=exc.status)
    return render(request, "search/search.html", context)
