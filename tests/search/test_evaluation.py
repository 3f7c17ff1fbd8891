"""manage.py evaluate_retrieval: Recall@K and MRR per channel and fused."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.management import call_command

from apps.search.evaluation import _score
from tests import factories
from tests.roco_data import REAL_ROCO

pytestmark = pytest.mark.django_db


def test_recall_and_mrr_are_computed_from_the_ranks():
    score = _score("p", "c", [1, 3, None, 10, 2], [1, 5, 10])
    assert score.recall == {1: 0.2, 5: 0.6, 10: 0.8}
    assert score.mrr == pytest.approx((1 + 1 / 3 + 0 + 1 / 10 + 1 / 2) / 5)


@pytest.mark.skipif(not REAL_ROCO.is_dir(), reason="real ROCO metadata not found")
def test_keywords_to_caption_on_real_roco_metadata_writes_a_table_and_csv(tmp_path):
    folder = tmp_path / "validation" / "radiology"
    folder.mkdir(parents=True)
    for name in ["captions.txt", "keywords.txt", "cuis.txt", "semtypes.txt", "dlinks.txt", "licences.txt"]:
        lines = (REAL_ROCO / name).read_text().splitlines(keepends=True)
        (folder / name).write_text("".join(lines[: 151 if name == "licences.txt" else 150]))
    quiet = {"stdout": io.StringIO(), "stderr": io.StringIO()}
    call_command("import_roco", str(folder), **quiet)
    call_command("embed", "--space", "caption", **quiet)
    out = io.StringIO()

    call_command(
        "evaluate_retrieval",
        "--split",
        "validation",
        "--csv",
        str(tmp_path / "r.csv"),
        stdout=out,
        stderr=io.StringIO(),
    )

    rows = {row["channel"]: row for row in csv.DictReader((tmp_path / "r.csv").open())}
    assert set(rows) == {
        "caption",
        "text",
        "fused (caption + text)",
        "reranked (fused, top 50 by pseudo-description, caption)",
    }
    assert all(row["protocol"] == "keywords→caption" and row["queries"] == "150" for row in rows.values())
    # Real semantics on real captions: the keywords of an entry find its own caption.
    assert float(rows["caption"]["R@10"]) > 0.9
    assert float(rows["text"]["R@1"]) <= float(rows["text"]["R@5"]) <= float(rows["text"]["R@10"])
    assert "clip: not evaluated" in out.getvalue()
    assert "| keywords→caption | caption | 150 |" in out.getvalue()


def test_text_to_image_runs_in_the_clip_space_when_a_clip_model_is_installed(
    settings, tiny_clip_dir, tmp_path
):
    settings.MIRAGE_CLIP_MODEL = str(tiny_clip_dir)
    factories.images("Chest radiograph.", "Axial CT of the head.", "Knee MRI.", split="validation")
    factories.images("Training image.", split="train")
    call_command("embed", stdout=io.StringIO(), stderr=io.StringIO())

    call_command(
        "evaluate_retrieval", "--split", "validation", "--space", "clip", "--k", "1,2",
        "--csv", str(tmp_path / "r.csv"), stdout=io.StringIO(), stderr=io.StringIO(),
    )  # fmt: skip

    (row,) = csv.DictReader((tmp_path / "r.csv").open())
    assert row["protocol"] == "text→image (caption as query)" and row["channel"] == "clip"
    assert row["queries"] == "3"  # only the validation split, not the training image
    assert 0.0 <= float(row["R@1"]) <= float(row["R@2"]) <= 1.0


def test_bad_cut_offs_are_a_clear_error():
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="from 1 to 100"):
        call_command("evaluate_retrieval", "--split", "validation", "--k", "0,5", stdout=io.StringIO())


def test_a_space_lacking_vectors_for_some_entries_is_not_scored_and_the_command_says_how_to_embed():
    factories.images("Chest radiograph.", "Axial CT of the head.", split="validation", keywords=["scan"])
    call_command("embed", "--space", "caption", stdout=io.StringIO(), stderr=io.StringIO())
    # Imported after the embedding, as import_roco --no-embed leaves them: no caption vectors.
    factories.images(
        "Knee MRI.", "Abdominal ultrasound.", "Hand radiograph.", split="validation", keywords=["scan"]
    )
    out = io.StringIO()

    call_command("evaluate_retrieval", "--split", "validation", stdout=out, stderr=io.StringIO())

    text = out.getvalue()
    assert (
        "caption: not evaluated — 3 of 5 entries of split 'validation' have no vector in the caption "
        "space; run `manage.py embed --space caption`"
    ) in text
    assert "| caption |" not in text
    assert "| keywords→caption | text | 5 |" in text  # full text needs no vectors: still scored
