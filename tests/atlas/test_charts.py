"""Server-drawn SVG bar charts: the bins, the bar heights, and the markup a page includes."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from django.template import Context, Template

from apps.atlas.templatetags.charts import bar_geometry, grouped_bar_geometry, histogram


def test_scores_fall_into_tenths_and_a_full_score_counts_in_the_top_bin():
    bins = histogram([0, 9.9, 10, 55, 99, 100, 100])
    assert bins[0] == ("0–9", 2) and bins[1] == ("10–19", 1) and bins[5] == ("50–59", 1)
    assert bins[-1] == ("90–100", 3) and sum(n for _, n in bins) == 7


def test_bar_heights_are_proportional_to_the_values():
    bars = bar_geometry([("a", 2), ("b", 4), ("c", 0)])["bars"]
    assert bars[1]["h"] == 2 * bars[0]["h"] and bars[2]["h"] == 0
    assert bars[0]["y"] + bars[0]["h"] == bars[1]["y"] + bars[1]["h"]  # one baseline
    assert bars[0]["x"] < bars[1]["x"] < bars[2]["x"]


def test_the_quiz_results_charts_render_as_labelled_svg():
    students = [SimpleNamespace(best=SimpleNamespace(percent=p)) for p in (40, 45, 100)] + [
        SimpleNamespace(best=None)
    ]
    stats = [SimpleNamespace(number=1, percent_correct=75), SimpleNamespace(number=2, percent_correct=None)]
    html = Template(
        "{% load charts %}{% score_bins students as bins %}"
        '{% bar_chart bins title="Best score per student" unit="students" %}'
        "{% difficulty_bars stats as bars %}"
        '{% bar_chart bars title="Share right per question" max_value=100 unit="%" %}'
    ).render(Context({"students": students, "stats": stats}))
    assert html.count("<svg") == 2 and html.count('role="img"') == 2
    assert "40–49: 2 students" in html and "90–100: 1 students" in html
    assert "Q1: 75 %" in html and "Q2: 0 %" in html
    assert " id=" not in html  # two charts on one page never clash


def test_counts_get_whole_ticks_and_few_bars_stay_slim_and_centred():
    geometry = bar_geometry([("a", 1), ("b", 0), ("c", 3)])
    assert [tick["value"] for tick in geometry["ticks"]] == [0, 2, 4]
    (alone,) = grouped_bar_geometry([("clip", [0.2, 0.5, 0.7])], max_value=1)["groups"]
    widths = {bar["w"] for bar in alone["bars"]}
    assert widths == {64}
    middle = alone["bars"][1]
    assert middle["x"] + middle["w"] / 2 == pytest.approx(alone["cx"], abs=0.1)


def test_many_bars_label_only_every_few_so_labels_never_overlap_yet_every_title_stays():
    stats = [SimpleNamespace(number=n, percent_correct=50) for n in range(1, 41)]
    html = Template(
        '{% load charts %}{% difficulty_bars stats as bars %}{% bar_chart bars title="t" max_value=100 %}'
    ).render(Context({"stats": stats}))
    labels = re.findall(r'<text class="label"[^>]*>(Q\d+)</text>', html)
    assert labels[:3] == ["Q1", "Q4", "Q7"] and len(labels) == 14
    assert html.count("<title>") == 40
