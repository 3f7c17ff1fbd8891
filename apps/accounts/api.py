"""The current user's account: who they are, and the images they made.

There is deliberately no password log-in, sign-up or email change here. API clients authenticate
with personal Bearer tokens (apps.api), so no endpoint can be used to guess passwords around the
log-in lock-out; and a leaked token must not be enough to redirect password resets (an email
change) and so take over the account. Those stay on the pages, behind a password log-in.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.generics import GenericAPIView
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.selectors import PROFILE_IMAGES, user_images
from apps.accounts.serializers import MeSerializer, OwnImageSerializer
from apps.api.errors import ERROR


class MeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(summary="Your account: username, email, role", responses={200: MeSerializer, 401: ERROR})
    def get(self, request: Request) -> Response:
        return Response(MeSerializer(request.user).data)


class OwnImagesPagination(PageNumberPagination):
    page_size = PROFILE_IMAGES


class MyImagesView(GenericAPIView):
    permission_classes = [IsAuthenticated]
    serializer_class = OwnImageSerializer
    pagination_class = OwnImagesPagination

    @extend_schema(
        summary="The images you generated, newest first, with their moderation state",
        responses={200: OwnImageSerializer(many=True), 401: ERROR, 404: ERROR},
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(user_images(user=request.user))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)
