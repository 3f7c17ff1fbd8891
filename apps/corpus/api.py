"""Which configured models load on this server."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.corpus.spaces import configured_spaces
from apps.ml.encoders import check_encoder


class ModelStatusSerializer(serializers.Serializer):
    role = serializers.CharField()
    spec = serializers.CharField()
    ok = serializers.BooleanField()
    dim = serializers.IntegerField(allow_null=True)
    error = serializers.CharField(allow_null=True)


class ModelStatusView(APIView):
    permission_classes = [IsAdminUser]  # model ids and load errors are for the people who run the server

    @extend_schema(
        summary="Which configured models load here", responses={200: ModelStatusSerializer(many=True)}
    )
    def get(self, request: Request) -> Response:
        rows = []
        for name, config in configured_spaces().items():
            status_ = check_encoder(config.model)
            rows.append(
                {
                    "role": f"{name} encoder",
                    "spec": config.model,
                    "ok": status_.ok,
                    "dim": status_.dim,
                    "error": status_.error,
                }
            )
        return Response(ModelStatusSerializer(rows, many=True).data)
