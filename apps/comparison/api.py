from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.comparison.selectors import COMPARE_K, compare_params, compare_queries
from apps.core.api import ERROR, validated
from apps.search.serializers import RankedParams, SearchResultSerializer, k_field, query_field


class CompareParams(RankedParams):
    parse = staticmethod(compare_params)

    a = query_field("Left query")
    b = query_field("Right query")
    k = k_field(default=COMPARE_K)


class CompareView(APIView):
    """Two independent queries with the same K and filters (q + add − sub: /api/search/arithmetic/)."""

    permission_classes = [AllowAny]
    throttle_scope = "search"

    @extend_schema(
        summary="Compare two queries side by side",
        parameters=[CompareParams],
        responses={
            200: inline_serializer(
                "Comparison", {"left": SearchResultSerializer(), "right": SearchResultSerializer()}
            ),
            400: ERROR,
            429: ERROR,
        },
    )
    def get(self, request: Request) -> Response:
        left, right = compare_queries(**validated(CompareParams, request.query_params), user=request.user)
        context = {"request": request}
        return Response(
            {
                "left": SearchResultSerializer(left, context=context).data,
                "right": SearchResultSerializer(right, context=context).data,
            }
        )
