"""The staff page of the retrieval evaluation: the newest table `evaluate_retrieval` wrote for each
protocol, drawn as R@1/5/10 per channel with its numbers as text; how to run one when none has been."""

from __future__ import annotations

import os
import re

import pytest
from django.urls import reverse

from apps.search.evaluation import KEYWORDS_TO_CAPTION, TEXT_TO_IMAGE, _score, latest_evaluations, write_csv
from tests import factories

pytestmark = pytest.mark.django_db

KS = [1, 5, 10]
BAR = re.compile(r'<rect class="bar s(\d)"[^>]* height="([\d.]+)"><title>([^<]+)</title>')


@pytest.fixture
def folder(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    return tmp_path / "evaluation"


def written(path, scores, *, age: int = 0):
    """Write a table with the command's own writer, `age` seconds old."""
    write_csv(path, scores, KS)
    stamp = path.stat().st_mtime - age
    os.utime(path, (stamp, stamp))


def staff_client(client):
    client.force_login(factories.user("root", is_staff=True))
    return client


def test_the_page_charts_the_newest_table_of_each_protocol_as_recall_per_channel(client, folder):
    old = _score(KEYWORDS_TO_CAPTION, "caption", [None, None], KS)
    written(folder / "retrieval-test.csv", [old, _score(TEXT_TO_IMAGE, "clip", [1, 2, 7, None], KS)], age=60)
    written(
        folder / "retrieval-validation.csv",
        [
            _score(KEYWORDS_TO_CAPTION, "caption", [1, 1, 3, 20], KS),
            _score(KEYWORDS_TO_CAPTION, "fused (caption + text)", [1, 2, 2, 2], KS),
        ],
    )

    page = staff_client(client).get(reverse("search:evaluation")).content.decode()

    clip, keywords = page.split("<section")[1:]
    assert TEXT_TO_IMAGE in clip and "retrieval-test.csv" in clip  # the only table that has it
    assert [(s, label) for s, _, label in BAR.findall(clip)] == [
        ("0", "clip, R@1: 0.25"),
        ("1", "clip, R@5: 0.5"),
        ("2", "clip, R@10: 0.75"),
    ]
    assert "retrieval-validation.csv" in keywords and "retrieval-test.csv" not in keywords  # the newest
    bars = {label: float(h) for _, h, label in BAR.findall(keywords)}
    assert bars["caption, R@1: 0.5"] * 1.5 == pytest.approx(bars["caption, R@5: 0.75"], abs=0.2)
    assert bars["fused, R@5: 1.0"] == bars["fused, R@10: 1.0"] > bars["fused, R@1: 0.25"]
    assert "caption: R@1 0.5, R@5 0.75, R@10 0.75; fused: R@1 0.25" in keywords  # read out as text
    cells = re.findall(r'<th scope="row">fused \(caption \+ text\)</th>(.*?)</tr>', keywords)[0]
    assert re.findall(r'<td class="num">([^<]+)</td>', cells) == ["4", "0.250", "1.000", "1.000", "0.625"]


def test_without_an_evaluation_the_page_says_how_to_run_one(client, folder):
    page = staff_client(client).get(reverse("search:evaluation")).content.decode()

    assert "No retrieval evaluation has been run yet" in page and "<svg" not in page
    assert "manage.py evaluate_retrieval --split validation" in page and str(folder) in page


def test_a_file_that_is_not_an_evaluation_table_is_named_and_skipped(folder):
    folder.mkdir(parents=True)
    (folder / "notes.csv").write_text("a,b\n1,2\n")
    written(folder / "retrieval-validation.csv", [_score(TEXT_TO_IMAGE, "clip", [1], KS)])

    tables, problems = latest_evaluations()

    assert [t.protocol for t in tables] == [TEXT_TO_IMAGE] and tables[0].rows[0].recall == {1: 1, 5: 1, 10: 1}
    assert problems == ["notes.csv: not read — not a table evaluate_retrieval wrote"]


def test_only_staff_see_the_evaluation(client, folder):
    assert client.get(reverse("search:evaluation")).status_code == 302  # to the log-in page
    client.force_login(factories.user(role="instructor"))
    assert client.get(reverse("search:evaluation")).status_code == 403
