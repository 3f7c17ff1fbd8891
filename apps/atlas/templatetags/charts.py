"""Small SVG charts drawn on the server (no JavaScript, no chart library): `{% bar_chart %}`, and
`{% grouped_bar_chart %}` for several series side by side.

{% load charts %}
{% score_bins students as bins %}{% bar_chart bins title="Best score per student" unit="students" %}
{% difficulty_bars stats as bars %}
    {% bar_chart bars title="Share right per question" max_value=100 unit="%" %}
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from django import template

register = template.Library()

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 36, 8, 12, 34
MAX_BAR = 64  # a chart of few bars keeps them slim
LABEL_ROOM = 40  # below this much width per slot, only every few groups are labelled


def histogram(percents: Iterable[float], *, width: int = 10) -> list[tuple[str, int]]:
    """Counts of percentages in bins of `width` points: 0–9, 10–19, …, the last bin includes 100."""
    edges = list(range(0, 100, width))
    counts = [0] * len(edges)
    for percent in percents:
        index = min(int(max(0.0, float(percent)) // width), len(edges) - 1)
        counts[index] += 1
    return [
        (f"{low}–{low + width - 1}" if low + width < 100 else f"{low}–100", n)
        for low, n in zip(edges, counts, strict=True)
    ]


def grouped_bar_geometry(
    groups: Sequence[tuple[str, Sequence[float]]], *, max_value: float | None = None
) -> dict:
    """Where each bar goes in a WIDTH × HEIGHT box: a slot per group, its bars side by side (one per
    series, `series` their index), with a few round ticks on the value axis."""
    values = [v for _, group in groups for v in group]
    top = max_value if max_value else max([float(v) for v in values] + [1])
    counts = not max_value and all(isinstance(v, int) for v in values)
    if counts:
        top = max(2, top + top % 2)  # whole numbers at every tick (0, half, top)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(groups), 1)
    every = math.ceil(LABEL_ROOM / slot)  # labels that would overlap are skipped (the titles keep them all)
    drawn = []
    for i, (label, group) in enumerate(groups):
        bar_w = min(slot * 0.76 / max(len(group), 1), MAX_BAR)
        start = LEFT + (i + 0.5) * slot - bar_w * len(group) / 2  # the group centred in its slot
        bars = []
        for j, value in enumerate(group):
            h = plot_h * (float(value) / top) if top else 0
            bars.append(
                {
                    "series": j,
                    "value": value,
                    "x": round(start + j * bar_w, 1),
                    "w": round(bar_w, 1),
                    "y": round(TOP + plot_h - h, 1),
                    "h": round(h, 1),
                }
            )
        cx = round(LEFT + (i + 0.5) * slot, 1)
        drawn.append({"label": label, "cx": cx, "bars": bars, "labelled": i % every == 0})
    ticks = [
        {"value": round(top * f, None if counts or top >= 10 else 1), "y": round(TOP + plot_h * (1 - f), 1)}
        for f in (0, 0.5, 1)
    ]
    return {
        "groups": drawn,
        "ticks": ticks,
        "width": WIDTH,
        "height": HEIGHT,
        "left": LEFT,
        "base": TOP + plot_h,
        "right": WIDTH - RIGHT,
        "label_y": HEIGHT - 12,
    }


def bar_geometry(bars: Sequence[tuple[str, float]], *, max_value: float | None = None) -> dict:
    """One bar per label: groups of one."""
    geometry = grouped_bar_geometry([(label, [value]) for label, value in bars], max_value=max_value)
    groups = geometry.pop("groups")
    geometry["bars"] = [
        {"label": g["label"], "cx": g["cx"], "labelled": g["labelled"], **g["bars"][0]} for g in groups
    ]
    return geometry


@register.inclusion_tag("charts/_bars.html")
def bar_chart(bars, *, title: str, max_value: float | None = None, unit: str = "") -> dict:
    bars = [(str(label), value if value is not None else 0) for label, value in bars]
    return {"title": title, "unit": unit, **bar_geometry(bars, max_value=max_value)}


@register.inclusion_tag("charts/_grouped_bars.html")
def grouped_bar_chart(groups, *, series, title: str, max_value: float | None = None) -> dict:
    """Bars side by side in each group: `groups` is [(label, [value per series])], `series` the names
    of the series (drawn in their own colours, named in a key under the chart)."""
    groups = [(str(label), [v if v is not None else 0 for v in values]) for label, values in groups]
    geometry = grouped_bar_geometry(groups, max_value=max_value)
    names = list(series)
    for group in geometry["groups"]:
        for bar in group["bars"]:
            bar["name"] = names[bar["series"]] if bar["series"] < len(names) else ""
    return {"title": title, "series": names, **geometry}


@register.simple_tag
def score_bins(students) -> list[tuple[str, int]]:
    """Quiz results: how many students' best attempt scored in each tenth (StudentResult.best.percent);
    no bins at all while no one has handed in an attempt (there is nothing to draw)."""
    percents = [s.best.percent for s in students if s.best is not None]
    return histogram(percents) if percents else []


@register.simple_tag
def difficulty_bars(stats) -> list[tuple[str, float]]:
    """Quiz results: the share of right answers per question (QuestionStat), unanswered ones as 0;
    no bars at all while no question has been answered."""
    if not any(stat.percent_correct is not None for stat in stats):
        return []
    return [(f"Q{stat.number}", stat.percent_correct or 0) for stat in stats]
