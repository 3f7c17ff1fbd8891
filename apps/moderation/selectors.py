"""Reads for moderation: the review queue, the decision log, and an image's open reports."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import Case, F, Min, Prefetch, Q, QuerySet, When
from django.http import Http404

from apps.accounts.models import User
from apps.corpus.models import Image
from apps.generation.models import Description, Job
from apps.moderation.models import Decision, DescriptionFlag, Report

QUEUE_KINDS = {"all": "Everything waiting", "pending": "New generated images", "reported": "Reported images"}
# Page sizes of the moderation pages (API lists page with apps.core.api.Pagination).
QUEUE_PAGE = 20
LOG_PAGE = 50


def _open_reports() -> QuerySet[Report]:
    return Report.objects.filter(decision__isnull=True)


def _waiting_filter(kind: str) -> Q:
    pending = Q(moderation_state=Image.PENDING)
    reported = Q(pk__in=_open_reports().values("image_id"))
    return {"pending": pending, "reported": reported}.get(kind, pending | reported)


def moderation_queue(*, kind: str = "all") -> QuerySet[Image]:
    """Images waiting for a moderator, longest-waiting first: pending ones (since they were made)
    and those with open reports (since the first one). Each carries `open_reports` (a list)."""
    open_reports = Q(reports__decision__isnull=True)
    return (
        Image.objects.filter(_waiting_filter(kind))
        .annotate(first_report_at=Min("reports__created_at", filter=open_reports))
        .annotate(
            waiting_since=Case(
                When(moderation_state=Image.PENDING, then=F("created_at")), default=F("first_report_at")
            )
        )
        .select_related("dataset", "owner")
        .prefetch_related(
            Prefetch("reports", queryset=_open_reports().select_related("reporter"), to_attr="open_reports")
        )
        .order_by("waiting_since", "pk")
    )


def moderation_queue_size() -> int:
    return Image.objects.filter(_waiting_filter("all")).count()


def decision_log(*, image: Image | None = None, moderator: User | None = None) -> QuerySet[Decision]:
    """Every decision, newest first, each with the reports it closed prefetched."""
    decisions = Decision.objects.select_related("image", "moderator").prefetch_related("reports__reporter")
    if image is not None:
        decisions = decisions.filter(image=image)
    if moderator is not None:
        decisions = decisions.filter(moderator=moderator)
    return decisions.order_by("-created_at", "-pk")


def image_open_reports(*, image: Image) -> QuerySet[Report]:
    return _open_reports().filter(image=image).select_related("reporter")


def report_is_open(*, user: User, image: Image) -> bool:
    """Whether this user has a report on this image that no moderator has answered yet."""
    return user.is_authenticated and _open_reports().filter(image=image, reporter=user).exists()


@dataclass
class Review:
    """What a moderator weighs before deciding on one image."""

    image: Image
    open_reports: list[Report]
    history: list[Decision]  # the newest LOG_PAGE decisions on it, newest first


def image_review(*, image: Image) -> Review:
    return Review(
        image=image,
        open_reports=list(image_open_reports(image=image)),
        history=list(decision_log(image=image)[:LOG_PAGE]),
    )


def description_get_for_user(user: User, pk: int):
    """The access helper for flagging: a description the user was shown (one of their jobs wrote it).
    404 otherwise, so flagging does not reveal which descriptions exist."""
    if not user.is_authenticated:
        raise PermissionDenied("Log in to flag a description.")
    description = Description.objects.filter(pk=pk).first()
    shown = Job.objects.filter(owner=user, result__descriptions__contains=[pk]).exists()
    if description is None or not (shown or user.is_moderator):
        raise Http404("No such description.")
    return description


def description_flags_open() -> QuerySet[DescriptionFlag]:
    """Flags on descriptions that wait for a moderator, oldest first."""
    return DescriptionFlag.objects.filter(resolved_at__isnull=True).select_related("description", "flagger")
