"""Template tags for the examples that search pages show beside their own."""

from __future__ import annotations

from django import template

from apps.comparison.presets import DEMO_QUERIES

register = template.Library()


@register.simple_tag
def demo_queries() -> list[dict]:
    """The paper's public demo's example queries (its App.jsx), for one-click links."""
    return DEMO_QUERIES
