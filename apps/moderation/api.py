"""Moderation endpoints: the queue, one image's review, deciding, reporting, the decision log.

The same selectors, services and access check as the pages: moderators only, except reporting,
which any logged-in user may do for an image they can see.
"""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api import ERROR, Pagination, validated
from apps.corpus.selectors import image_get_for_user
from apps.moderation.access import moderator_check
from apps.moderation.models import DescriptionFlag
from apps.moderation.selectors import (
    decision_log,
    description_flags_open,
    description_get_for_user,
    image_review,
    moderation_queue,
)
from apps.moderation.serializers import (
    DecideSerializer,
    DecisionSerializer,
    DescriptionFlagRequestSerializer,
    DescriptionFlagResolveSerializer,
    DescriptionFlagSerializer,
    LogParamsSerializer,
    QueueItemSerializer,
    QueueParamsSerializer,
    ReportRequestSerializer,
    ReportSerializer,
    ReviewSerializer,
)
from apps.moderation.services import (
    description_flag,
    description_flag_resolve,
    image_report,
    moderation_decide,
)


class IsModerator(BasePermission):
    """Anonymous → 401; logged in but not a moderator → 403, through the pages' own check."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        moderator_check(request.user)
        return True


PAGE_ERRORS = {400: ERROR, 401: ERROR, 403: ERROR, 404: ERROR}


class QueueView(GenericAPIView):
    permission_classes = [IsModerator]
    serializer_class = QueueItemSerializer
    pagination_class = Pagination

    @extend_schema(
        summary="The moderation queue: images waiting for a decision, longest-waiting first",
        parameters=[QueueParamsSerializer],
        responses={200: QueueItemSerializer(many=True), **PAGE_ERRORS},
    )
    def get(self, request: Request) -> Response:
        kind = validated(QueueParamsSerializer, request.query_params)["kind"]
        page = self.paginate_queryset(moderation_queue(kind=kind))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class ReviewView(APIView):
    permission_classes = [IsModerator]

    @extend_schema(
        summary="One image as a moderator reviews it: its open reports and decision history",
        responses={200: ReviewSerializer, 401: ERROR, 403: ERROR, 404: ERROR},
    )
    def get(self, request: Request, pk: int) -> Response:
        review = image_review(image=image_get_for_user(request.user, pk))
        return Response(ReviewSerializer(review, context={"request": request}).data)


class DecideView(APIView):
    permission_classes = [IsModerator]

    @extend_schema(
        summary="Decide on an image: approve, reject (with a reason) or dismiss its reports",
        description="Every decision is logged and closes the image's open reports. 409 when the "
        "image's state already settles it (already approved or rejected, no reports to dismiss); "
        "403 for approving one's own image.",
        request=DecideSerializer,
        responses={201: DecisionSerializer, 400: ERROR, 401: ERROR, 403: ERROR, 404: ERROR, 409: ERROR},
    )
    def post(self, request: Request, pk: int) -> Response:
        image = image_get_for_user(request.user, pk)
        data = validated(DecideSerializer, request.data)
        decision = moderation_decide(
            moderator=request.user, image=image, decision=data["action"], reason=data["reason"]
        )
        return Response(DecisionSerializer(decision).data, status=status.HTTP_201_CREATED)


class ReportView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Report an image you can see; a moderator will review it",
        description="The image stays visible until a moderator decides. 403 for your own image; "
        "409 when you have an open report on it already, or it has been removed.",
        request=ReportRequestSerializer,
        responses={201: ReportSerializer, 400: ERROR, 401: ERROR, 403: ERROR, 404: ERROR, 409: ERROR},
    )
    def post(self, request: Request, pk: int) -> Response:
        image = image_get_for_user(request.user, pk)
        reason = validated(ReportRequestSerializer, request.data)["reason"]
        report = image_report(user=request.user, image=image, reason=reason)
        return Response(ReportSerializer(report).data, status=status.HTTP_201_CREATED)


class DecisionLogView(GenericAPIView):
    permission_classes = [IsModerator]
    serializer_class = DecisionSerializer
    pagination_class = Pagination

    @extend_schema(
        summary="The decision log: who decided what, when and why; newest first",
        parameters=[LogParamsSerializer],
        responses={200: DecisionSerializer(many=True), **PAGE_ERRORS},
    )
    def get(self, request: Request) -> Response:
        pk = validated(LogParamsSerializer, request.query_params).get("image")
        image = image_get_for_user(request.user, pk) if pk is not None else None
        page = self.paginate_queryset(decision_log(image=image))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class DescriptionFlagView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Flag a description you were shown: wrong, unsupported by its captions, or unsafe",
        request=DescriptionFlagRequestSerializer,
        responses={201: DescriptionFlagSerializer, 400: ERROR, 401: ERROR, 404: ERROR, 409: ERROR},
    )
    def post(self, request: Request, pk: int) -> Response:
        description = description_get_for_user(request.user, pk)
        data = validated(DescriptionFlagRequestSerializer, request.data)
        flag = description_flag(
            user=request.user, description=description, kind=data["kind"], comment=data.get("comment", "")
        )
        return Response(DescriptionFlagSerializer(flag).data, status=status.HTTP_201_CREATED)


class DescriptionFlagQueueView(GenericAPIView):
    permission_classes = [IsModerator]
    pagination_class = Pagination
    serializer_class = DescriptionFlagSerializer

    @extend_schema(
        summary="Open flags on descriptions, oldest first (moderators)",
        responses={200: DescriptionFlagSerializer(many=True), 401: ERROR, 403: ERROR},
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(description_flags_open())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class DescriptionFlagResolveView(APIView):
    permission_classes = [IsModerator]

    @extend_schema(
        summary="Uphold or dismiss a flag on a description (moderators); the flag keeps who, when and why",
        request=DescriptionFlagResolveSerializer,
        responses={
            200: DescriptionFlagSerializer,
            400: ERROR,
            401: ERROR,
            403: ERROR,
            404: ERROR,
            409: ERROR,
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        flag = DescriptionFlag.objects.filter(pk=pk).first()
        if flag is None:
            raise Http404("No such flag.")
        data = validated(DescriptionFlagResolveSerializer, request.data)
        flag = description_flag_resolve(
            moderator=request.user, flag=flag, resolution=data["resolution"], note=data.get("note", "")
        )
        return Response(DescriptionFlagSerializer(flag).data)
