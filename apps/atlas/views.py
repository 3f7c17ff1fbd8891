"""The map page and its three small JSON endpoints (points, one point, a placed query)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from apps.atlas.selectors import (
    atlas_place_image,
    atlas_place_query,
    atlas_point,
    atlas_points,
    atlas_spaces,
)
from apps.atlas.services import AtlasError
from apps.core.errors import UserError, error_body
from apps.core.ratelimit import RateLimited, rate_limit_hit
from apps.corpus.spaces import CAPTION
from apps.search.params import arithmetic_params


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
        response = _error(exc)
        response["Retry-After"] = str(exc.retry_after)
        return response
    except UserError as exc:
        return _error(exc)
