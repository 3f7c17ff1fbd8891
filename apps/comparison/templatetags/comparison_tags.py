"""Template tags for search and comparison pages: the demo's examples, and asking a question on one screen."""

from __future__ import annotations

from django import template
from django.utils.http import urlencode

from apps.comparison.presets import DEMO_QUERIES
from apps.generation.selectors import model_availability_for

register = template.Library()

# Not carried into a question: the result page, and the jobs an earlier question started.
NOT_CARRIED = ("page", "describe", "image", "mode", "csrfmiddlewaretoken")


@register.simple_tag
def demo_queries() -> list[dict]:
    """The paper's public demo's example queries (its App.jsx), for one-click links."""
    return DEMO_QUERIES


@register.inclusion_tag("comparison/_ask_action.html", takes_context=True)
def ask_action(context, mode: str) -> dict:
    """ "Describe and illustrate": the search (mode "one") or comparison ("pair", "arith") on this page,
    asked again on one screen with a description and a synthetic image of each column. Logged-in users
    start it at once (POST); others are shown the results and asked to log in for the rest."""
    params = context.get("params") or {}
    fields = [
        (name, value)
        for name in params
        if name not in NOT_CARRIED
        for value in params.getlist(name)
        if value != ""
    ]
    fields = [("mode", mode), *fields]
    return {
        "mode": mode,
        "fields": fields,
        "query": urlencode(fields),
        "available": model_availability_for(context.get("request")),
        "user": context.get("user"),
        "csrf_token": context.get("csrf_token"),
    }
