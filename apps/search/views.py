from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from apps.corpus.modality import MODALITIES
from apps.corpus.models import Dataset
from apps.corpus.selectors import corpus_counts, image_get_for_user
from apps.search.filters import LICENCE_CHOICES, ORIGIN_CHOICES
from apps.search.selectors import (
    CHANNEL_LABELS,
    QueryError,
    clean_filters,
    clean_k,
    clean_page,
    image_search,
    image_search_similar,
    picture_from_upload,
    picture_search,
)

EXAMPLE_QUERIES = [
    "chest X-ray with pneumothorax",
    "axial CT of the abdomen",
    "brain MRI",
    "retinal fundus photograph",
    "ultrasound",
]


def filter_choices() -> dict[str, object]:
    """Everything the filter controls offer (shared with the comparison page)."""
    return {
        "modalities": MODALITIES,
        "licences": LICENCE_CHOICES,
        "origins": ORIGIN_CHOICES,
        "datasets": list(Dataset.objects.order_by("name").values_list("slug", "name")),
    }


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


def search_page(request: HttpRequest) -> HttpResponse:
    """Text search (GET, so every result page can be bookmarked)."""
    context = _context(request)
    status = 200
    if "q" in request.GET:
        try:
            context["result"] = image_search(
                query=request.GET["q"],
                k=clean_k(request.GET.get("k")),
                page=clean_page(request.GET.get("page")),
                filters=clean_filters(request.GET),
                user=request.user,
            )
        except QueryError as exc:
            context["error"], status = str(exc), exc.status
    return render(request, "search/search.html", context, status=status)


@require_http_methods(["GET", "POST"])
def image_query_page(request: HttpRequest) -> HttpResponse:
    """Search by an uploaded image, optionally with a text modifier (a composed query)."""
    context = _context(request, mode="image", params=request.POST, pager_base=None)
    if request.method == "GET":
        return render(request, "search/search.html", context)
    try:
        result = _image_query(request)
    except QueryError as exc:
        return render(request, "search/search.html", {**context, "error": str(exc)}, status=exc.status)
    return render(request, "search/search.html", {**context, "result": result})


def _image_query(request: HttpRequest):
    upload = request.FILES.get("image")
    if upload is None:
        raise QueryError("Choose an image file (PNG, JPEG or DICOM) to search with.")
    picture = picture_from_upload(data=upload.read(), name=upload.name)
    return picture_search(
        picture=picture,
        label=f"image {upload.name}",
        text=request.POST.get("text", ""),
        weight=request.POST.get("weight"),
        k=clean_k(request.POST.get("k")),
        filters=clean_filters(request.POST),
        user=request.user,
    )


def similar_page(request: HttpRequest, pk: int) -> HttpResponse:
    """ "More like this" for a stored image."""
    image = image_get_for_user(request.user, pk)
    context = _context(request, mode="similar", source=image)
    try:
        context["result"] = image_search_similar(
            image=image,
            k=clean_k(request.GET.get("k")),
            page=clean_page(request.GET.get("page")),
            filters=clean_filters(request.GET),
            user=request.user,
        )
    except QueryError as exc:
        context["error"] = str(exc)
        return render(request, "search/search.html", context, status=exc.status)
    return render(request, "search/search.html", context)
