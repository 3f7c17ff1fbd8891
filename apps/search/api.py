"""Search endpoints: the same selectors as the pages, as JSON."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api import ERROR, ApiError
from apps.corpus.modality import MODALITIES
from apps.corpus.selectors import image_get_for_user
from apps.corpus.serializers import ImageSerializer
from apps.search.filters import LICENCE_CHOICES, ORIGIN_CHOICES
from apps.search.selectors import (
    MAX_PAGE,
    Arithmetic,
    arithmetic_search,
    clean_filters,
    clean_k,
    clean_page,
    image_search,
    image_search_similar,
    picture_from_upload,
    picture_search,
)


class ChannelHitSerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    similarity = serializers.FloatField()


class SearchHitSerializer(serializers.Serializer):
    image = ImageSerializer()
    score = serializers.FloatField(
        help_text="Fused relevance, 0–1: 1 = ranked first by every channel that ran."
    )
    channels = serializers.DictField(child=ChannelHitSerializer(), help_text="clip / caption / text → rank")


class SearchResultSerializer(serializers.Serializer):
    label = serializers.CharField()
    query = serializers.CharField()
    k = serializers.IntegerField()
    page = serializers.IntegerField()
    total = serializers.IntegerField()
    has_next = serializers.BooleanField()
    channels = serializers.ListField(child=serializers.CharField())
    notices = serializers.ListField(child=serializers.CharField())
    hits = SearchHitSerializer(many=True)


FILTER_PARAMETERS = [
    OpenApiParameter("modality", str, enum=list(MODALITIES), description="Only this modality"),
    OpenApiParameter("licence", str, enum=list(LICENCE_CHOICES), description="Licence filter (default any)"),
    OpenApiParameter("dataset", str, description="Only this dataset (slug)"),
    OpenApiParameter("origin", str, enum=list(ORIGIN_CHOICES), description="Real, synthetic or any"),
]
PAGING = [
    OpenApiParameter("k", int, description="Results per page, 1–100 (default 20)"),
    OpenApiParameter("page", int, description=f"Page, 1–{MAX_PAGE} (default 1)"),
]


def result_response(request: Request, result) -> Response:
    return Response(SearchResultSerializer(result, context={"request": request}).data)


class SearchView(APIView):
    permission_classes = [AllowAny]
    throttle_scope = "search"

    @extend_schema(
        summary="Search images by text",
        parameters=[
            OpenApiParameter("q", str, required=True, description="What to look for (≤ 1000 characters)")
        ]
        + PAGING
        + FILTER_PARAMETERS,
        responses={200: SearchResultSerializer, 400: ERROR, 429: ERROR},
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        result = image_search(
            query=params.get("q", ""),
            k=clean_k(params.get("k")),
            page=clean_page(params.get("page")),
            filters=clean_filters(params),
            user=request.user,
        )
        return result_response(request, result)


class ImageQuerySerializer(serializers.Serializer):
    image = serializers.FileField(help_text="PNG, JPEG or DICOM, up to 20 MB; never stored")
    text = serializers.CharField(
        required=False, allow_blank=True, help_text="Optional modifier (composed query)"
    )
    weight = serializers.FloatField(required=False, help_text="Weight of the text, 0–1 (default 0.5)")
    k = serializers.IntegerField(required=False)
    modality = serializers.ChoiceField(choices=list(MODALITIES), required=False)
    licence = serializers.ChoiceField(choices=list(LICENCE_CHOICES), required=False)
    dataset = serializers.CharField(required=False)
    origin = serializers.ChoiceField(choices=list(ORIGIN_CHOICES), required=False)


class ImageSearchView(APIView):
    permission_classes = [AllowAny]
    parser_classes = [MultiPartParser]
    throttle_scope = "image_search"

    @extend_schema(
        summary="Search by an uploaded image, optionally with words (composed query)",
        request={"multipart/form-data": ImageQuerySerializer},
        responses={200: SearchResultSerializer, 400: ERROR, 409: ERROR, 413: ERROR, 415: ERROR, 429: ERROR},
    )
    def post(self, request: Request) -> Response:
        data = request.data
        upload = data.get("image")
        if not hasattr(upload, "read"):
            raise ApiError("Send an image file in the `image` field (multipart/form-data).")
        picture = picture_from_upload(data=upload.read(), name=upload.name or "upload")
        result = picture_search(
            picture=picture,
            label=f"image {upload.name}",
            text=data.get("text", ""),
            weight=data.get("weight"),
            k=clean_k(data.get("k")),
            filters=clean_filters(data),
            user=request.user,
        )
        return result_response(request, result)


class ArithmeticView(APIView):
    permission_classes = [AllowAny]
    throttle_scope = "search"

    @extend_schema(
        summary="Concept arithmetic: results for q and for normalize(wq·q + wa·add − ws·sub)",
        parameters=[
            OpenApiParameter("q", str, required=True),
            OpenApiParameter("add", str),
            OpenApiParameter("sub", str),
            OpenApiParameter("wq", float, description="0–2, default 1"),
            OpenApiParameter("wadd", float, description="0–2, default 1"),
            OpenApiParameter("wsub", float, description="0–2, default 1"),
            OpenApiParameter("k", int, description="Results per column, 1–100 (default 20)"),
        ]
        + FILTER_PARAMETERS,
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
        params = request.query_params
        terms = Arithmetic.from_params(params)
        original, modified = arithmetic_search(
            terms=terms, k=clean_k(params.get("k")), filters=clean_filters(params), user=request.user
        )
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


class SimilarView(APIView):
    permission_classes = [AllowAny]
    throttle_scope = "search"

    @extend_schema(
        summary="More like this: neighbours of a stored image",
        parameters=PAGING + FILTER_PARAMETERS,
        responses={200: SearchResultSerializer, 400: ERROR, 404: ERROR, 409: ERROR, 429: ERROR},
    )
    def get(self, request: Request, pk: int) -> Response:
        params = request.query_params
        result = image_search_similar(
            image=image_get_for_user(request.user, pk),
            k=clean_k(params.get("k")),
            page=clean_page(params.get("page")),
            filters=clean_filters(params),
            user=request.user,
        )
        return result_response(request, result)
