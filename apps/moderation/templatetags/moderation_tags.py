"""The moderation parts of other apps' pages: the image page's panel and the nav's queue size."""

from __future__ import annotations

from django import template

from apps.corpus.models import Image
from apps.moderation.selectors import image_open_reports, moderation_queue_size, report_is_open

register = template.Library()


@register.inclusion_tag("moderation/_image_panel.html", takes_context=True)
def moderation_image_actions(context, image: Image) -> dict:
    request = context["request"]
    user = request.user
    is_moderator = getattr(user, "is_moderator", False)
    return {
        "image": image,
        "user": user,
        "next": request.get_full_path(),
        "is_owner": user.is_authenticated and image.owner_id == user.pk,
        "is_moderator": is_moderator,
        "open_reports": list(image_open_reports(image=image)) if is_moderator else [],
        "reported_by_me": report_is_open(user=user, image=image),
    }


@register.simple_tag
def moderation_waiting() -> int:
    return moderation_queue_size()
