"""A page's title block holds the title only: words (and variables), never markup pasted into it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
TITLE = re.compile(r"{% block title %}(.*?){% endblock %}", re.S)


@pytest.mark.parametrize(
    "template", sorted(p for p in TEMPLATES.rglob("*.html") if "{% block title %}" in p.read_text())
)
def test_a_title_block_is_one_line_of_text(template):
    (title,) = TITLE.findall(template.read_text())[:1]
    assert "<" not in title and "\n" not in title, f"{template.relative_to(TEMPLATES)}: {title[:80]!r}"
