"""The "Save to study set" form shown on every search result card and image page."""

from __future__ import annotations

from django import template
from django.template.loader import render_to_string

from apps.core.requests import once_per_request
from apps.corpus.models import Image
from apps.corpus.selectors import images_visible_to
from apps.studysets.models import StudySet
from apps.studysets.selectors import studyset_saved_in
from apps.studysets.services import FIRST_SET_TITLE

register = template.Library()
TEMPLATE = "studysets/_save_form.html"


def _per_request(request, user) -> dict:
    """The user's sets and what they hold, read once per page however many cards it shows."""
    cache = once_per_request(
        request,
        "studyset_save_form",
        lambda: {
            "sets": list(
                StudySet.objects.filter(owner=user).order_by("-updated_at", "-pk").only("pk", "title")
            ),
            "saved": studyset_saved_in(user=user),
            "count": 0,
        },
    )
    cache["count"] += 1  # distinct element ids when one page shows several forms
    return cache


@register.simple_tag(takes_context=True)
def studyset_save_form(context) -> str:
    """The form (studysets/_save_form.html) for this card's image; for a visitor not logged in, the
    same "Log in to save" link on every card, rendered once per page."""
    request = context.get("request")
    user = context.get("user") or getattr(request, "user", None)
    if request is None or user is None or not user.is_authenticated:

        def login_link() -> str:
            login_next = request.get_full_path() if request is not None else "/"
            return render_to_string(TEMPLATE, {"anonymous": True, "login_next": login_next})

        return once_per_request(request, "studyset_login_link", login_link)
    image = context["image"]
    if image.moderation_state != Image.APPROVED and not images_visible_to(user).filter(pk=image.pk).exists():
        return ""  # e.g. a moderator reviewing someone's pending image: not theirs to save
    cache = _per_request(request, user)
    # After a save, the view renders this control alone (htmx swaps it in) with what happened.
    swapped = context.get("studyset_save") or {}
    form = {
        "image": image,
        "sets": cache["sets"],
        "saved_in": cache["saved"].get(image.pk, []),
        "uid": swapped.get("uid") or f"ss{cache['count']}",
        "message": swapped.get("message", ""),
        "error": swapped.get("error", ""),
        # htmx comes with the page's first control; a swapped-in control finds it already there.
        "load_htmx": cache["count"] == 1 and not swapped.get("swapped"),
        "next": swapped.get("next") or request.get_full_path(),
        "csrf_token": context.get("csrf_token"),
        "first_set_title": FIRST_SET_TITLE,
    }
    return render_to_string(TEMPLATE, form)
