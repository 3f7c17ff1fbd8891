"""Search endpoints: the same parsers and selectors as the pages, as JSON."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api import ERROR, validated
from apps.corpus.selectors import image_get_for_user
from apps.corpus.serializers import ImageSerializer
from apps.search.params import (
    MAX_WEIGHT,
    arithmetic_params,
    picture_search_params,
    similar_params,
    text_search_params,
)
from apps.search.selectors import arithmetic_search, picture_search, similar_search, text_search
from apps.search.serializers import (
    FilterParams,
    RankedParams,
    SearchResultSerializer,
    k_field,
    page_field,
    query_field,
)


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
