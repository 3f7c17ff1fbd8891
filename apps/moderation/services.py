"""Writes for moderation: users report images, moderators decide, every decision is logged.

A report does not hide an image: an approved image stays visible until a moderator decides, so
one user cannot take down another's material by reporting it. A rejected image is seen only by
its author (with the reason) and by moderators; `apps.corpus.selectors.images_visible_to` hides
it from everyone else's searches, study sets and quizzes.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone

from apps.accounts.models import User
from apps.core.errors import UserError
from apps.corpus.models import Image
from apps.corpus.selectors import images_visible_to
from apps.generation.services import descriptions_forget_image
from apps.moderation.access import moderator_check
from apps.moderation.models import Decision, DescriptionFlag, Report

MAX_REASON_CHARS = 2000


class ModerationError(UserError):
    """A report or decision the user must change; the message is shown as it is.

    Its `status` is 400 for a bad request, 403 when the rule is about who may do it (one's own
    image), 409 when the image's current state already settles it (already decided, reported)."""


def _clean_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if len(reason) > MAX_REASON_CHARS:
        raise ModerationError(f"Keep the reason under {MAX_REASON_CHARS} characters (it has {len(reason)}).")
    return reason


def image_report(*, user: User, image: Image, reason: str) -> Report:
    """Report an image the user can see. It enters the moderation queue; it stays visible meanwhile."""
    if not user.is_authenticated:
        raise PermissionDenied("Log in to report an image.")
    if not user.is_moderator and not images_visible_to(user).filter(pk=image.pk).exists():
        raise PermissionDenied("You cannot see this image.")
    if image.owner_id == user.pk:
        raise ModerationError("This is your own image; you cannot report it.", status=403)
    if image.moderation_state == Image.REJECTED:
        raise ModerationError("A moderator has already removed this image.", status=409)
    reason = _clean_reason(reason)
    if not reason:
        raise ModerationError("Say what is wrong with this image, so that a moderator can judge it.")
    try:
        with transaction.atomic():
            return Report.objects.create(image=image, reporter=user, reason=reason)
    except IntegrityError:
        raise ModerationError(
            "You have already reported this image; a moderator will look at it.", status=409
        ) from None


def moderation_decide(*, moderator: User, image: Image, decision: str, reason: str = "") -> Decision:
    """Approve, reject or dismiss the reports on an image; log it; close the image's open reports.

    - approve: the image becomes visible to everyone (its open reports are answered too);
    - reject: hidden from everyone but its author and moderators; the author sees the reason,
      which is therefore required; cached descriptions that quote its caption are deleted;
    - dismiss: the image stays as it is; its open reports are closed.
    """
    if not getattr(moderator, "is_moderator", False):
        raise PermissionDenied("Only moderators decide on images.")
    if decision not in dict(Decision.ACTIONS):
        raise ModerationError("Choose approve, reject or dismiss.")
    reason = _clean_reason(reason)
    with transaction.atomic():
        # Lock the image so that two moderators deciding at once are applied one after the other,
        # and the second sees the first's outcome.
        image = Image.objects.select_for_update().filter(pk=image.pk).first()
        if image is None:
            raise Http404("No such image.")  # deleted since the moderator opened it
        open_reports = Report.objects.filter(image=image, decision__isnull=True)
        before = image.moderation_state
        after = _state_after(
            moderator=moderator,
            image=image,
            decision=decision,
            reason=reason,
            has_reports=open_reports.exists(),
        )
        if after != before:
            image.moderation_state = after
            image.moderation_reason = reason if after == Image.REJECTED else ""
            image.save(update_fields=["moderation_state", "moderation_reason", "updated_at"])
            if after == Image.REJECTED:
                descriptions_forget_image(image_id=image.pk)  # they quote its caption
        record = Decision.objects.create(
            image=image,
            image_label=f"{image.dataset.name} · {image.external_id}",
            moderator=moderator,
            moderator_name=moderator.get_username(),
            action=decision,
            reason=reason,
            state_before=before,
            state_after=after,
        )
        open_reports.update(decision=record)
    return record


def _state_after(*, moderator: User, image: Image, decision: str, reason: str, has_reports: bool) -> str:
    state = image.moderation_state
    if decision == Decision.APPROVE:
        if state == Image.APPROVED:
            raise ModerationError(
                "This image is already approved; to close its reports, dismiss them.", status=409
            )
        if image.owner_id == moderator.pk:
            raise ModerationError("Your own image needs another moderator's approval.", status=403)
        return Image.APPROVED
    if decision == Decision.REJECT:
        if state == Image.REJECTED:
            raise ModerationError("This image is already rejected.", status=409)
        if not reason:
            raise ModerationError("Give a reason for rejecting: the image's author will read it.")
        return Image.REJECTED
    if not has_reports:
        raise ModerationError("This image has no open reports to dismiss.", status=409)
    return state


def description_flag(*, user: User, description, kind: str, comment: str = "") -> DescriptionFlag:
    """Flag a description for moderators. One open flag per reader and description."""
    if kind not in dict(DescriptionFlag.KINDS):
        raise ModerationError(
            "Choose what is wrong: wrong, unsupported by the captions, or unsafe.", field="kind"
        )
    comment = (comment or "").strip()
    if len(comment) > MAX_REASON_CHARS:
        raise ModerationError(f"Keep the comment under {MAX_REASON_CHARS} characters.", field="comment")
    if DescriptionFlag.objects.filter(
        description=description, flagger=user, resolved_at__isnull=True
    ).exists():
        raise ModerationError(
            "You have already flagged this description; a moderator will look at it.", status=409
        )
    return DescriptionFlag.objects.create(description=description, flagger=user, kind=kind, comment=comment)


def description_flag_resolve(
    *, moderator: User, flag: DescriptionFlag, resolution: str, note: str = ""
) -> DescriptionFlag:
    """A moderator upholds or dismisses an open flag; the row then records who, when and why."""
    moderator_check(moderator)
    if resolution not in dict(DescriptionFlag.RESOLUTIONS):
        raise ModerationError("Uphold or dismiss the flag.", field="resolution")
    with transaction.atomic():
        flag = DescriptionFlag.objects.select_for_update().get(pk=flag.pk)
        if flag.resolved_at is not None:
            raise ModerationError("This flag was already resolved.", status=409)
        flag.resolution = resolution
        flag.resolution_note = (note or "").strip()[:MAX_REASON_CHARS]
        flag.resolved_by = moderator
        flag.resolver_name = moderator.get_username()
        flag.resolved_at = timezone.now()
        flag.save()
    return flag
