"""The current user's account: who they are, the images they made, and their API tokens.

There is deliberately no password log-in, sign-up or email change here. API clients authenticate
with personal Bearer tokens (apps.core.tokens), so no endpoint can be used to guess passwords around the
log-in lock-out; and a leaked token must not be enough to redirect password resets (an email
change) and so take over the account. Those stay on the pages, behind a password log-in.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.selectors import user_images
from apps.accounts.serializers import MeSerializer, OwnImageSerializer
from apps.core.api import ERROR, Pagination, validated
from apps.core.authentication import SessionOnly
from apps.core.models import ApiToken
from apps.core.tokens import (
    DEFAULT_LIFETIME_DAYS,
    LIFETIME_CHOICES,
    api_token_create,
    api_token_revoke,
    api_tokens_of,
)


class MeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(summary="Your account: username, email, role", responses={200: MeSerializer, 401: ERROR})
    def get(self, request: Request) -> Response:
        return Response(MeSerializer(request.user).data)


class MyImagesView(GenericAPIView):
    permission_classes = [IsAuthenticated]
    serializer_class = OwnImageSerializer
    pagination_class = Pagination

    @extend_schema(
        summary="The images you generated, newest first, with their moderation state",
        responses={200: OwnImageSerializer(many=True), 401: ERROR, 404: ERROR},
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(user_images(user=request.user))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class ApiTokenSerializer(serializers.ModelSerializer):
    class Meta:
        model = ApiToken
        fields = [
            "id",
            "name",
            "prefix",
            "read_only",
            "created_at",
            "expires_at",
            "last_used_at",
            "revoked_at",
        ]
        read_only_fields = fields


class TokenCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    lifetime = serializers.ChoiceField(
        choices=list(LIFETIME_CHOICES), default=str(DEFAULT_LIFETIME_DAYS), help_text="Days, or never."
    )
    read_only = serializers.BooleanField(default=False, help_text="Only GET, HEAD and OPTIONS requests.")


class TokenListView(GenericAPIView):
    permission_classes = [SessionOnly]
    pagination_class = Pagination
    serializer_class = TokenCreateSerializer  # what POST takes (DRF's OPTIONS describes it)

    @extend_schema(
        summary="Your API tokens, newest first",
        responses={200: ApiTokenSerializer(many=True), 401: ERROR, 403: ERROR},
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(api_tokens_of(request.user))
        return self.get_paginated_response(ApiTokenSerializer(page, many=True).data)

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
        token, raw = api_token_create(user=request.user, **validated(TokenCreateSerializer, request.data))
        return Response(
            {"token": raw, "details": ApiTokenSerializer(token).data}, status=status.HTTP_201_CREATED
        )


class TokenDetailView(APIView):
    permission_classes = [SessionOnly]

    @extend_schema(summary="Revoke an API token", responses={204: None, 401: ERROR, 403: ERROR, 404: ERROR})
    def delete(self, request: Request, pk: int) -> Response:
        api_token_revoke(user=request.user, pk=pk)
        return Response(status=status.HTTP_204_NO_CONTENT)
