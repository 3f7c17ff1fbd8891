"""Template tags for the generation parts that search and comparison pages include."""

from __future__ import annotations

from urllib.parse import urlencode

from django import template

from apps.generation.selectors import DEFAULT_K, K_RANGE, model_availability_for

register = template.Library()


@register.simple_tag(takes_context=True)
def generation_available(context):
    """What this server can run (selectors.model_availability), for pages outside this app."""
    return model_availability_for(context.get("request"))


@register.inclusion_tag("generation/_search_actions.html", takes_context=True)
def search_actions(context, result, index: int = 1) -> dict:
    """Generate and describe buttons under a search result, disabled when this server cannot run them.
    Describe is one click (a POST to the describe page); `describe_query` is the preview page's query."""
    params, arithmetic = context.get("params") or {}, {}
    if context.get("mode") == "arith" and (params.get("add") or params.get("sub")):
        # The modified column's captions are its own (q + add − sub), not those of a search for "q add".
        names = ("q", "add", "sub", "wq", "wadd", "wsub")
        arithmetic = {name: params[name] for name in names if params.get(name)}
    return {
        "result": result,
        "arithmetic": arithmetic,
        "describe_query": urlencode(arithmetic or {"q": result.query}),
        "index": index,
        "user": context.get("user"),
        "request": context.get("request"),
        "csrf_token": context.get("csrf_token"),
        "available": model_availability_for(context.get("request")),
        "default_k": DEFAULT_K,
        "k_range": K_RANGE,
    }
