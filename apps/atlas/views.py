"""The map page and its small JSON endpoints (points, one point, a placed query, a placed picture)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from apps.atlas.selectors import (
    atlas_place_image,
    atlas_place_picture,
    atlas_place_query,
    atlas_point,
    atlas_points,
    atlas_spaces,
    atlas_takes_pictures,
)
from apps.atlas.services import AtlasError
from apps.core.errors import UserError, error_body
from apps.core.ratelimit import RateLimited, rate_limit_hit
from apps.corpus.spaces import CAPTION
from apps.search.params import arithmetic_params, uploaded_picture


def _space_name(request: HttpRequest) -> str:
    return request.GET.get("space") or CAPTION


def _error(exc: UserError) -> JsonResponse:
    return JsonResponse(error_body(exc.status, str(exc)), status=exc.status)


@require_GET
def map_page(request: HttpRequest) -> HttpResponse:
    spaces = atlas_spaces()
    return render(
        request,
        "atlas/map.html",
        {
            "spaces": spaces,
            "space": _space_name(request),
            "q": request.GET.get("q", ""),
            "add": request.GET.get("add", ""),
            "sub": request.GET.get("sub", ""),
            "image": request.GET.get("image", ""),
            "takes_pictures": atlas_takes_pictures(space_name=_space_name(request)),
        },
    )


@require_GET
def points(request: HttpRequest) -> JsonResponse:
    try:
        return JsonResponse(atlas_points(space_name=_space_name(request), user=request.user))
    except AtlasError as exc:
        return _error(exc)


@require_GET
def point(request: HttpRequest, pk: int) -> JsonResponse:
    try:
        return JsonResponse(atlas_point(pk=pk, user=request.user))
    except AtlasError as exc:
        return _error(exc)


def _rate_limited(exc: RateLimited) -> JsonResponse:
    response = _error(exc)
    response["Retry-After"] = str(exc.retry_after)
    return response


@require_GET
def place_query(request: HttpRequest) -> JsonResponse:
    """Counted as a search (it runs one)."""
    try:
        rate_limit_hit(scope="search", request=request)
        image = request.GET.get("image", "")
        if image and not request.GET.get("q"):  # a typed query wins over the image the map opened with
            if not image.isdigit():
                raise AtlasError("The image must be given by its number.", status=400)
            return JsonResponse(
                atlas_place_image(space_name=_space_name(request), pk=int(image), user=request.user)
            )
        terms = arithmetic_params(request.GET)["terms"]
        return JsonResponse(
            atlas_place_query(space_name=_space_name(request), terms=terms, user=request.user)
        )
    except RateLimited as exc:
        return _rate_limited(exc)
    except UserError as exc:
        return _error(exc)


@require_POST
def place_picture(request: HttpRequest) -> JsonResponse:
    """An uploaded picture (`image`), checked as the search page checks it; counted as an image search."""
    try:
        rate_limit_hit(scope="image_search", request=request)
        picture, label = uploaded_picture(request.FILES, purpose="to place on the map")
        placed = atlas_place_picture(
            space_name=request.POST.get("space") or CAPTION, picture=picture, label=label, user=request.user
        )
        return JsonResponse(placed)
    except RateLimited as exc:
        return _rate_limited(exc)
    except UserError as exc:
        return _error(exc)
