"""API tokens (JSON endpoints and a page), model status, and the schema's home."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.api.authentication import BearerTokenAuthentication
from apps.api.errors import ERROR, ApiError
from apps.api.models import ApiToken
from apps.api.services import TokenError, api_token_create, api_token_revoke, api_tokens_of
from apps.corpus.spaces import configured_spaces
from apps.ml.encoders import check_encoder


class ApiTokenSerializer(serializers.ModelSerializer):
    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "created_at", "last_used_at", "revoked_at"]
        read_only_fields = fields


class TokenCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)


class TokenListView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(summary="Your API tokens", responses={200: ApiTokenSerializer(many=True), 401: ERROR})
    def get(self, request: Request) -> Response:
        tokens = api_tokens_of(request.user)
        return Response(ApiTokenSerializer(tokens, many=True).data)

    @extend_schema(
        summary="Create an API token (the token is in the response, once)",
        request=TokenCreateSerializer,
        responses={
            201: inline_serializer(
                "NewToken", {"token": serializers.CharField(), "details": ApiTokenSerializer()}
            ),
            400: ERROR,
            401: ERROR,
            403: ERROR,
        },
    )
    def post(self, request: Request) -> Response:
        if isinstance(request.successful_authenticator, BearerTokenAuthentication):
            # A leaked token must not be able to mint copies of itself that outlive its revocation.
            raise ApiError(
                "Tokens are created while logged in (session), not with another token.", status_code=403
            )
        serializer = TokenCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            token, raw = api_token_create(user=request.user, name=serializer.validated_data["name"])
        except TokenError as exc:
            raise ApiError(str(exc)) from exc
        return Response(
            {"token": raw, "details": ApiTokenSerializer(token).data}, status=status.HTTP_201_CREATED
        )


class TokenDetailView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(summary="Revoke an API token", responses={204: None, 401: ERROR, 404: ERROR})
    def delete(self, request: Request, pk: int) -> Response:
        api_token_revoke(user=request.user, pk=pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ModelStatusSerializer(serializers.Serializer):
    role = serializers.CharField()
    spec = serializers.CharField()
    ok = serializers.BooleanField()
    dim = serializers.IntegerField(allow_null=True)
    error = serializers.CharField(allow_null=True)


class ModelStatusView(APIView):
    permission_classes = [AllowAny]

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


# --- The page where a user creates and revokes tokens ---------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def tokens_page(request: HttpRequest) -> HttpResponse:
    new_token = None
    status_code = 200
    if request.method == "POST":
        try:
            _, new_token = api_token_create(user=request.user, name=request.POST.get("name", ""))
        except TokenError as exc:
            messages.error(request, str(exc))
            status_code = 400
    tokens = api_tokens_of(request.user)
    return render(request, "api/tokens.html", {"tokens": tokens, "new_token": new_token}, status=status_code)


@login_required
@require_POST
def token_revoke_page(request: HttpRequest, pk: int) -> HttpResponse:
    token = api_token_revoke(user=request.user, pk=pk)
    messages.success(request, f"Token “{token.name}” revoked.")
    return redirect("api:tokens_page")
