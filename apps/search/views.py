from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from apps.core.ratelimit import rate_limited
from apps.corpus.selectors import REAL_CORPUS_COMMANDS, corpus_counts, image_get_for_user, only_samples_loaded
from apps.search.evaluation import evaluation_dir, latest_evaluations
from apps.search.filters import filter_choices
from apps.search.models import RelevanceRating
from apps.search.params import QueryError, picture_search_params, similar_params, text_search_params
from apps.search.ratings import ratings_csv, ratings_qrels
from apps.search.selectors import (
    PICTURE_UNAVAILABLE,
    picture_search,
    picture_search_available,
    similar_search,
    text_search,
)
from apps.search.services import may_rate, relevance_rate

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
        "counts": corpus_counts(),
        "q": request.GET.get("q", ""),
        "k": request.GET.get("k", "20"),
        "params": request.GET,
        "max_upload_mb": settings.MIRAGE_MAX_UPLOAD_BYTES // 2**20,
        # The image form is offered only where it can run; elsewhere it is disabled with one sentence.
        "picture_search": picture_search_available(),
        "picture_unavailable": PICTURE_UNAVAILABLE,
        **filter_choices(),
        **extra,
    }


@rate_limited("search", methods=("GET",), when=lambda request: "q" in request.GET)
def search_page(request: HttpRequest) -> HttpResponse:
    """Text search (GET, so every result page can be bookmarked); the home page.

    Staff on a fresh install are told how to load the real corpus (students never see commands)."""
    context = _context(request)
    if request.user.is_staff and only_samples_loaded():
        context["real_corpus_commands"] = REAL_CORPUS_COMMANDS
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


@login_required
@require_POST
def rate_page(request: HttpRequest) -> HttpResponse:
    """An instructor's relevance grade for one result of one query, from a result card."""
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = reverse("search:search")
    try:
        rating = relevance_rate(
            rater=request.user,
            query=request.POST.get("query", ""),
            image_id=_pk(request.POST.get("image")),
            grade=request.POST.get("grade"),
        )
    except QueryError as exc:
        messages.error(request, str(exc))
        return redirect(back)
    messages.success(request, f"Rated “{rating.get_grade_display()}” for “{rating.query}”.")
    return redirect(back)


def _pk(value: object) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise QueryError("Choose an image to rate.", field="image") from None


@login_required
def ratings_page(request: HttpRequest) -> HttpResponse:
    """Instructors and staff: how many ratings there are, and their exports (TREC qrels, CSV)."""
    if not may_rate(request.user):
        raise PermissionDenied("Only instructors can see relevance ratings.")
    fmt = request.GET.get("export")
    if fmt == "qrels":
        response = HttpResponse(ratings_qrels(), content_type="text/plain; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="mirage-relevance.qrels"'
        return response
    if fmt == "csv":
        response = HttpResponse(ratings_csv(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="mirage-relevance.csv"'
        return response
    ratings = RelevanceRating.objects.all()
    context = {
        "ratings": ratings.count(),
        "queries": ratings.values("query").distinct().count(),
        "raters": ratings.values("rater").distinct().count(),
    }
    return render(request, "search/ratings.html", context)


@login_required
def evaluation_page(request: HttpRequest) -> HttpResponse:
    """Staff: the newest retrieval evaluation of each protocol (the CSV `evaluate_retrieval` wrote)."""
    if not request.user.is_staff:
        raise PermissionDenied("Only staff can see the retrieval evaluation.")
    tables, problems = latest_evaluations()
    context = {"tables": tables, "problems": problems, "folder": evaluation_dir()}
    return render(request, "search/evaluation.html", context)
