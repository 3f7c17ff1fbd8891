"""import_roco on the real ROCO validation/radiology metadata (8,180 entries, no images)."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import pytest
from django.core.management import call_command
from PIL import Image as PILImage

from apps.corpus.models import Image
from apps.corpus.services import dataset_get_or_create, import_records
from apps.corpus.sources.roco import read_roco
from tests.roco_data import REAL_ROCO

FILES = ["captions.txt", "keywords.txt", "cuis.txt", "semtypes.txt", "dlinks.txt", "licences.txt"]

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not REAL_ROCO.is_dir(), reason=f"real ROCO metadata not found at {REAL_ROCO}"),
]


def roco_folder(tmp_path: Path, *, entries: int | None = None) -> Path:
    """A copy of the real metadata (the first `entries` of it) laid out as one split/category folder."""
    folder = tmp_path / "data" / "validation" / "radiology"
    folder.mkdir(parents=True)
    for name in FILES:
        lines = (REAL_ROCO / name).read_text(encoding="utf-8").splitlines(keepends=True)
        if entries is not None:
            header = 1 if name == "licences.txt" else 0
            lines = lines[: entries + header]
        (folder / name).write_text("".join(lines), encoding="utf-8")
    (folder / "images").mkdir()
    return folder


def ids_of(folder: Path) -> list[str]:
    return [line.split("\t", 1)[0] for line in (folder / "captions.txt").read_text().splitlines()]


def write_jpeg(path: Path, seed: int) -> None:
    PILImage.new("RGB", (40, 30), (seed % 256, (seed * 7) % 256, (seed * 13) % 256)).save(path, "JPEG")


def run(path: Path, *args: str) -> str:
    out = io.StringIO()
    call_command("import_roco", str(path), "--no-embed", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_full_real_validation_metadata_imports_as_metadata_only_entries(tmp_path):
    roco_folder(tmp_path)
    output = run(tmp_path)  # the dataset root, holding data/validation/radiology

    assert "imported 8180, updated 0, skipped 0, failed 0" in output
    assert "8180 metadata-only" in output
    roco = Image.objects.filter(dataset__slug="roco")
    assert roco.count() == 8180
    assert not roco.exclude(file="").exists()
    first = roco.get(external_id="ROCO_00020")
    assert first.caption.startswith("Axial computed tomography scan of the pelvis")
    assert first.split == "validation" and first.category == "radiology"
    assert first.pmc_id == "PMC3970251"
    assert first.article_url == "https://www.ncbi.nlm.nih.gov/pmc/articles/PMC3970251/"
    assert first.licence == "cc-by" and first.licence_raw == "CC BY"
    assert first.modality == "ct"
    assert "bladder" in first.keywords
    assert first.cuis[0] == "C4300092"
    assert ["T060", "Diagnostic Procedure"] in first.semtypes
    assert roco.filter(licence="none").count() == 1016  # the entries published as NO-CC CODE


def test_images_present_are_stored_and_absent_ones_stay_metadata_only(tmp_path):
    folder = roco_folder(tmp_path, entries=60)
    ids = ids_of(folder)
    for seed, external_id in enumerate(ids[:20]):
        write_jpeg(folder / "images" / f"{external_id}.jpg", seed)

    output = run(folder, "--split", "validation", "--category", "radiology")

    assert "imported 60, updated 0, skipped 0, failed 0" in output
    assert "40 metadata-only" in output
    with_file = Image.objects.exclude(file="")
    assert sorted(with_file.values_list("external_id", flat=True)) == sorted(ids[:20])
    stored = with_file.get(external_id=ids[0])
    assert (stored.width, stored.height, stored.format) == (40, 30, "JPEG")
    assert stored.file.read() == (folder / "images" / f"{ids[0]}.jpg").read_bytes()  # byte for byte
    assert stored.thumbnail and len(stored.sha256) == 64


def test_reimport_imports_nothing_twice_and_a_later_run_finds_new_images(tmp_path):
    folder = roco_folder(tmp_path, entries=30)
    run(folder)
    assert "imported 0, updated 0, skipped 30, failed 0" in run(folder)

    ids = ids_of(folder)
    write_jpeg(folder / "images" / f"{ids[5]}.jpg", 5)
    output = run(folder)

    assert "imported 0, updated 1, skipped 29, failed 0" in output
    assert Image.objects.count() == 30
    assert Image.objects.get(external_id=ids[5]).file


def test_malformed_line_is_reported_with_file_and_line_and_the_rest_imported(tmp_path):
    folder = roco_folder(tmp_path, entries=10)
    captions = folder / "captions.txt"
    lines = captions.read_text().splitlines()
    lines.insert(3, "this line has no tab and no id")
    captions.write_text("\n".join(lines) + "\n")

    output = run(folder)

    assert "imported 10, updated 0, skipped 0, failed 1" in output
    assert "captions.txt:4" in output
    assert Image.objects.count() == 10


def test_unreadable_image_is_reported_and_skipped_while_the_rest_is_imported(tmp_path):
    folder = roco_folder(tmp_path, entries=5)
    ids = ids_of(folder)
    (folder / "images" / f"{ids[2]}.jpg").write_bytes(b"\xff\xd8\xff\xe0 this is not really a jpeg")

    output = run(folder)

    assert "imported 4, updated 0, skipped 0, failed 1" in output
    assert f"{ids[2]}.jpg" in output and "unreadable image" in output
    assert not Image.objects.filter(external_id=ids[2]).exists()


def test_interrupted_import_leaves_whole_batches_and_a_rerun_completes_it(tmp_path):
    folder = roco_folder(tmp_path, entries=250)
    records, problems = read_roco(folder, split="validation", category="radiology")
    assert not problems
    dataset = dataset_get_or_create(slug="roco", name="ROCO")

    def ctrl_c():
        raise KeyboardInterrupt

    # Ctrl-C while the 31st entry of the second batch is being read: 30 rows of it are already written.
    interrupted = [*records[:130], dataclasses.replace(records[130], render=ctrl_c), *records[131:]]

    with pytest.raises(KeyboardInterrupt):
        import_records(dataset=dataset, records=interrupted, batch_size=100)
    assert Image.objects.count() == 100  # the first batch, whole; nothing of the second

    summary = import_records(dataset=dataset, records=records, batch_size=100)
    assert (summary.imported, summary.skipped) == (150, 100)
    assert Image.objects.count() == 250


def test_missing_path_is_a_clear_command_error(tmp_path):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="does not exist"):
        run(tmp_path / "nope")
