"""Search endpoints: the same parsers and selectors as the pages, as JSON."""

from __future__ import annotations

from collections.abc import Mapping

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api import ERROR, validated
from apps.core.errors import UserError
from apps.corpus.selectors import image_get_for_user
from apps.corpus.serializers import ImageSerializer
from apps.search.models import RelevanceRating
from apps.search.params import (
    MAX_WEIGHT,
    arithmetic_params,
    picture_search_params,
    similar_params,
    text_search_params,
)
from apps.search.ratings import ratings_csv, ratings_qrels
from apps.search.selectors import arithmetic_search, picture_search, similar_search, text_search
from apps.search.serializers import (
    FilterParams,
    RankedParams,
    SearchResultSerializer,
    k_field,
    page_field,
    query_field,
)
from apps.search.services import may_rate, relevance_rate


def result_response(request: Request, result) -> Response:
    return Response(SearchResultSerializer(result, context={"request": request}).data)


class TextSearchParams(RankedParams):
    parse = staticmethod(text_search_params)

    q = query_field("What to look for")
    k = k_field()
    page = page_field()


class SearchView(APIView):
    permission_classes = [AllowAny]
    throttle_scope = "search"

    @extend_schema(
        summary="Search images by text",
        parameters=[TextSearchParams],
        responses={200: SearchResultSerializer, 400: ERROR, 409: ERROR, 429: ERROR},
    )
    def get(self, request: Request) -> Response:
        params = validated(TextSearchParams, request.query_params)
        return result_response(request, text_search(**params, user=request.user))


class PictureSearchParams(RankedParams):
    parse = staticmethod(picture_search_params)

    image = serializers.FileField(help_text="PNG, JPEG or DICOM, up to MIRAGE_MAX_UPLOAD_BYTES; never stored")
    text = query_field("Optional words to blend with the image (a composed query)", required=False)
    weight = serializers.FloatField(
        required=False, min_value=0.0, max_value=1.0, help_text="Weight of the words, 0–1 (default 0.5)"
    )
    k = k_field()


class PictureSearchView(APIView):
    permission_classes = [AllowAny]
    parser_classes = [MultiPartParser]
    throttle_scope = "image_search"

    @extend_schema(
        summary="Search by an uploaded image, optionally with words (composed query)",
        request={"multipart/form-data": PictureSearchParams},
        responses={200: SearchResultSerializer, 400: ERROR, 409: ERROR, 413: ERROR, 415: ERROR, 429: ERROR},
    )
    def post(self, request: Request) -> Response:
        params = validated(PictureSearchParams, request.data)
        return result_response(request, picture_search(**params, user=request.user))


def weight_field(of: str) -> serializers.FloatField:
    return serializers.FloatField(
        required=False,
        min_value=0.0,
        max_value=MAX_WEIGHT,
        help_text=f"Weight of {of}, 0–{MAX_WEIGHT:g} (default 1)",
    )


class ArithmeticParams(RankedParams):
    parse = staticmethod(arithmetic_params)

    q = query_field("The query")
    add = query_field("A concept to add", required=False)
    sub = query_field("A concept to subtract", required=False)
    wq = weight_field("the query")
    wadd = weight_field("the added concept")
    wsub = weight_field("the subtracted concept")
    k = k_field()


class ArithmeticView(APIView):
    permission_classes = [AllowAny]
    throttle_scope = "search"

    @extend_schema(
        summary="Concept arithmetic: results for q and for normalize(wq·q + wa·add − ws·sub)",
        description="Weights that cancel the terms out (a zero weight on the only term, `sub` equal "
        "to `q` at the same weight) are answered with a 400.",
        parameters=[ArithmeticParams],
        responses={
            200: inline_serializer(
                "ArithmeticResult",
                {"original": SearchResultSerializer(), "modified": SearchResultSerializer()},
            ),
            400: ERROR,
            409: ERROR,
            429: ERROR,
        },
    )
    def get(self, request: Request) -> Response:
        params = validated(ArithmeticParams, request.query_params)
        original, modified = arithmetic_search(**params, user=request.user)
        context = {"request": request}
        return Response(
            {
                "original": SearchResultSerializer(original, context=context).data,
                "modified": SearchResultSerializer(modified, context=context).data,
            }
        )


class ImageDetailView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        summary="One image with its caption, source and licence", responses={200: ImageSerializer, 404: ERROR}
    )
    def get(self, request: Request, pk: int) -> Response:
        image = image_get_for_user(request.user, pk)
        return Response(ImageSerializer(image, context={"request": request}).data)


class SimilarParams(FilterParams):
    parse = staticmethod(similar_params)

    k = k_field()
    page = page_field()


class SimilarView(APIView):
    permission_classes = [AllowAny]
    throttle_scope = "search"

    @extend_schema(
        summary="More like this: neighbours of a stored image",
        parameters=[SimilarParams],
        responses={200: SearchResultSerializer, 400: ERROR, 404: ERROR, 409: ERROR, 429: ERROR},
    )
    def get(self, request: Request, pk: int) -> Response:
        image = image_get_for_user(request.user, pk)
        params = validated(SimilarParams, request.query_params)
        return result_response(request, similar_search(image=image, **params, user=request.user))


class RatingSerializer(serializers.Serializer):
    query = serializers.CharField(help_text="The query the result was found for (stored normalised)")
    image = serializers.IntegerField(source="image_id", help_text="The image's id")
    grade = serializers.ChoiceField(
        choices=RelevanceRating.GRADES, help_text="0 not relevant, 1 partly relevant, 2 relevant"
    )
    created = serializers.DateTimeField(read_only=True)
    updated = serializers.DateTimeField(read_only=True)


class RatingsView(APIView):
    """Instructors' relevance ratings: rate one result (POST); export all as qrels or CSV (GET)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Rate a result's relevance to a query (instructors; a new grade replaces the old)",
        request=RatingSerializer,
        responses={200: RatingSerializer, 400: ERROR, 401: ERROR, 403: ERROR, 404: ERROR},
    )
    def post(self, request: Request) -> Response:
        if not isinstance(request.data, Mapping):
            raise UserError("Send one object with the query, the image and the grade.", status=400)
        try:
            image_id = int(request.data.get("image"))
        except (TypeError, ValueError):
            image_id = -1
        rating = relevance_rate(
            rater=request.user,
            query=request.data.get("query"),
            image_id=image_id,
            grade=request.data.get("grade"),
        )
        return Response(RatingSerializer(rating).data)

    @extend_schema(
        summary="Export every relevance rating: `?as=qrels` (TREC: QUERY_ID 0 IMAGE_ID GRADE) or `?as=csv`",
        description="Instructors and staff. The qrels query id is the normalised query with underscores for "
        "spaces; the image id is the image's external id (e.g. the ROCO id). Score the rankings on it with "
        "`manage.py evaluate_retrieval --qrels FILE`.",
        responses={(200, "text/plain"): str, (200, "text/csv"): str, 401: ERROR, 403: ERROR},
    )
    def get(self, request: Request) -> HttpResponse:
        if not may_rate(request.user):
            raise PermissionDenied("Only instructors can export relevance ratings.")
        if request.query_params.get("as") == "csv":
            return HttpResponse(ratings_csv(), content_type="text/csv; charset=utf-8")
        return HttpResponse(ratings_qrels(), content_type="text/plain; charset=utf-8")
