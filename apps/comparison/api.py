from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api import ERROR
from apps.search.api import FILTER_PARAMETERS, SearchResultSerializer
from apps.search.selectors import clean_filters, clean_k, clean_query, image_search


class CompareView(APIView):
    """Two independent queries with the same K and filters (q + add − sub: /api/search/arithmetic/)."""

    permission_classes = [AllowAny]
    throttle_scope = "search"

    @extend_schema(
        summary="Compare two queries side by side",
        parameters=[
            OpenApiParameter("a", str, required=True, description="Left query"),
            OpenApiParameter("b", str, required=True, description="Right query"),
            OpenApiParameter("k", int, description="Results per column, 1–100 (default 12)"),
        ]
        + FILTER_PARAMETERS,
        responses={
            200: inline_serializer(
                "Comparison", {"left": SearchResultSerializer(), "right": SearchResultSerializer()}
            ),
            400: ERROR,
            429: ERROR,
        },
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        common = {
            "k": clean_k(params.get("k"), default=12),
            "filters": clean_filters(params),
            "user": request.user,
        }
        left = image_search(query=clean_query(params.get("a"), what="first query"), **common)
        right = image_search(query=clean_query(params.get("b"), what="second query"), **common)
        context = {"request": request}
        return Response(
            {
                "left": SearchResultSerializer(left, context=context).data,
                "right": SearchResultSerializer(right, context=context).data,
            }
        )
