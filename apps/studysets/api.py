"""Study set endpoints: the same access helper, selectors and services as the pages, as JSON."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import AllowAny, IsAuthenticated, IsAuthenticatedOrReadOnly
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api import ERROR, DownloadNegotiation, Pagination, validated
from apps.studysets import services
from apps.studysets.export import studyset_export_response
from apps.studysets.models import StudySet, StudySetItem
from apps.studysets.selectors import (
    studyset_get_for_user,
    studyset_hidden_count,
    studyset_item_get_for_owner,
    studyset_item_places,
    studyset_items_visible,
    studyset_notes_visible,
    studysets_owned_by,
    studysets_public,
)
from apps.studysets.serializers import (
    CopySerializer,
    ItemAddSerializer,
    ItemMoveSerializer,
    ItemUpdateSerializer,
    PublicQuerySerializer,
    StudySetDetailSerializer,
    StudySetItemSerializer,
    StudySetSerializer,
    StudySetUpdateSerializer,
    StudySetWriteSerializer,
    TokenQuerySerializer,
)

# Error responses for an endpoint that needs the set's owner.
OWNER_ERRORS = {400: ERROR, 401: ERROR, 403: ERROR, 404: ERROR}


def _token(request: Request) -> str | None:
    return validated(TokenQuerySerializer, request.query_params).get("token") or None


def detail_response(request: Request, studyset: StudySet, *, status_code: int = 200) -> Response:
    user = request.user
    items = list(studyset_items_visible(studyset=studyset, user=user))
    is_owner = user.is_authenticated and studyset.owner_id == user.pk
    context = {
        "request": request,
        "items": items,
        "places": {item.pk: place for place, item in enumerate(items, start=1)},
        "is_owner": is_owner,
        "show_notes": studyset_notes_visible(studyset=studyset, user=user),
        "hidden_count": studyset_hidden_count(studyset=studyset, user=user) if is_owner else None,
    }
    return Response(StudySetDetailSerializer(studyset, context=context).data, status=status_code)


def item_response(request: Request, item: StudySetItem, *, status_code: int = 200) -> Response:
    places = studyset_item_places(studyset=item.studyset, user=request.user)
    show_notes = studyset_notes_visible(studyset=item.studyset, user=request.user)
    context = {"request": request, "places": places, "show_notes": show_notes}
    data = StudySetItemSerializer(item, context=context).data
    return Response(data, status=status_code)


class StudySetListView(GenericAPIView):
    permission_classes = [IsAuthenticated]
    pagination_class = Pagination
    serializer_class = StudySetWriteSerializer  # what POST takes (DRF's OPTIONS describes it)

    @extend_schema(
        summary="Your study sets, most recently changed first",
        responses={200: StudySetSerializer(many=True), 401: ERROR, 404: ERROR},
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(studysets_owned_by(user=request.user).select_related("owner"))
        return self.get_paginated_response(
            StudySetSerializer(page, many=True, context={"request": request}).data
        )

    @extend_schema(
        summary="Create a study set (private unless you say otherwise)",
        request=StudySetWriteSerializer,
        responses={201: StudySetDetailSerializer, 400: ERROR, 401: ERROR},
    )
    def post(self, request: Request) -> Response:
        studyset = services.studyset_create(
            owner=request.user, **validated(StudySetWriteSerializer, request.data)
        )
        return detail_response(request, studyset, status_code=status.HTTP_201_CREATED)


class PublicStudySetListView(GenericAPIView):
    permission_classes = [AllowAny]
    pagination_class = Pagination

    @extend_schema(
        summary="Public study sets, optionally those whose title contains `q`",
        parameters=[PublicQuerySerializer],
        responses={200: StudySetSerializer(many=True), 400: ERROR, 404: ERROR},
    )
    def get(self, request: Request) -> Response:
        query = validated(PublicQuerySerializer, request.query_params).get("q", "")
        page = self.paginate_queryset(studysets_public(viewer=request.user, query=query))
        return self.get_paginated_response(
            StudySetSerializer(page, many=True, context={"request": request}).data
        )


class StudySetDetailView(APIView):
    permission_classes = [IsAuthenticatedOrReadOnly]

    @extend_schema(
        summary="A study set with the items you can see",
        description="Its owner, anyone for a public set, anyone with the token for an unlisted set.",
        parameters=[TokenQuerySerializer],
        responses={200: StudySetDetailSerializer, 400: ERROR, 404: ERROR},
    )
    def get(self, request: Request, pk: int) -> Response:
        return detail_response(request, studyset_get_for_user(request.user, pk, token=_token(request)))

    @extend_schema(
        summary="Change the title, description or visibility (owner)",
        request=StudySetUpdateSerializer,
        responses={200: StudySetDetailSerializer, **OWNER_ERRORS},
    )
    def patch(self, request: Request, pk: int) -> Response:
        studyset = studyset_get_for_user(request.user, pk, write=True)
        services.studyset_update(studyset=studyset, **validated(StudySetUpdateSerializer, request.data))
        return detail_response(request, studyset)

    @extend_schema(
        summary="Delete a study set and its items (owner)",
        responses={204: None, 401: ERROR, 403: ERROR, 404: ERROR},
    )
    def delete(self, request: Request, pk: int) -> Response:
        services.studyset_delete(studyset=studyset_get_for_user(request.user, pk, write=True))
        return Response(status=status.HTTP_204_NO_CONTENT)


class StudySetItemsView(GenericAPIView):
    permission_classes = [IsAuthenticatedOrReadOnly]
    pagination_class = Pagination
    serializer_class = ItemAddSerializer  # what POST takes (DRF's OPTIONS describes it)

    @extend_schema(
        summary="The items of a study set you can see, in order",
        parameters=[TokenQuerySerializer],
        responses={200: StudySetItemSerializer(many=True), 400: ERROR, 404: ERROR},
    )
    def get(self, request: Request, pk: int) -> Response:
        studyset = studyset_get_for_user(request.user, pk, token=_token(request))
        page = self.paginate_queryset(studyset_items_visible(studyset=studyset, user=request.user))
        places = studyset_item_places(studyset=studyset, user=request.user)
        show_notes = studyset_notes_visible(studyset=studyset, user=request.user)
        context = {"request": request, "places": places, "show_notes": show_notes}
        return self.get_paginated_response(StudySetItemSerializer(page, many=True, context=context).data)

    @extend_schema(
        summary="Save an image into the set, with a note (owner)",
        description="Saving an image that is already there keeps its place; a new non-empty note "
        "replaces its note (200 instead of 201).",
        request=ItemAddSerializer,
        responses={200: StudySetItemSerializer, 201: StudySetItemSerializer, 409: ERROR, **OWNER_ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        studyset = studyset_get_for_user(request.user, pk, write=True)
        data = validated(ItemAddSerializer, request.data)
        item, created = services.studyset_add_image(
            studyset=studyset, user=request.user, image_id=data["image"], note=data.get("note", "")
        )
        item.studyset = studyset
        return item_response(request, item, status_code=201 if created else 200)


class StudySetItemView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Change an item's note, or move it to another place (owner)",
        request=ItemUpdateSerializer,
        responses={200: StudySetItemSerializer, **OWNER_ERRORS},
    )
    def patch(self, request: Request, pk: int, item_pk: int) -> Response:
        item = studyset_item_get_for_owner(request.user, pk, item_pk)
        services.studyset_item_update(
            item=item, user=request.user, **validated(ItemUpdateSerializer, request.data)
        )
        return item_response(request, item)

    @extend_schema(
        summary="Remove an item from the set (owner)",
        responses={204: None, 401: ERROR, 403: ERROR, 404: ERROR},
    )
    def delete(self, request: Request, pk: int, item_pk: int) -> Response:
        services.studyset_item_remove(item=studyset_item_get_for_owner(request.user, pk, item_pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class StudySetItemMoveView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Move an item one place up or down (owner); at either end nothing moves",
        request=ItemMoveSerializer,
        responses={200: StudySetItemSerializer, **OWNER_ERRORS},
    )
    def post(self, request: Request, pk: int, item_pk: int) -> Response:
        item = studyset_item_get_for_owner(request.user, pk, item_pk)
        direction = validated(ItemMoveSerializer, request.data)["direction"]
        services.studyset_item_move(item=item, user=request.user, up=direction == "up")
        return item_response(request, item)


class StudySetCopyView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Copy a set you can read into a new private set of yours, with the notes you may read",
        request=CopySerializer,
        responses={201: StudySetDetailSerializer, 400: ERROR, 401: ERROR, 404: ERROR},
    )
    def post(self, request: Request, pk: int) -> Response:
        token = validated(CopySerializer, request.data).get("token") or None
        source = studyset_get_for_user(request.user, pk, token=token)
        copy = services.studyset_copy(studyset=source, owner=request.user)
        return detail_response(request, copy, status_code=status.HTTP_201_CREATED)


class StudySetRenewLinkView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Give the set a new unlisted link; the old one stops working (owner)",
        request=None,
        responses={200: StudySetDetailSerializer, 401: ERROR, 403: ERROR, 404: ERROR},
    )
    def post(self, request: Request, pk: int) -> Response:
        studyset = studyset_get_for_user(request.user, pk, write=True)
        return detail_response(request, services.studyset_renew_link(studyset=studyset))


class StudySetExportView(APIView):
    permission_classes = [AllowAny]
    throttle_scope = "export"
    content_negotiation_class = DownloadNegotiation

    @extend_schema(
        summary="Download the set as a ZIP: its images, images.csv (captions, notes, sources, "
        "licences) and README.txt",
        parameters=[TokenQuerySerializer],
        responses={(200, "application/zip"): OpenApiTypes.BINARY, 400: ERROR, 404: ERROR},
    )
    def get(self, request: Request, pk: int):
        studyset = studyset_get_for_user(request.user, pk, token=_token(request))
        return studyset_export_response(
            studyset=studyset, user=request.user, base_url=request.build_absolute_uri("/")
        )
