"""import_hf: the hub's ROCO-radiology layout (parquet shards with the datasets Image struct), read from
huggingface_hub's cache offline through the same code path a download takes, joined with the real ROCO
metadata; corrupt rows, missing columns, re-runs, a killed and resumed import, metadata-only entries."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import CommandError, call_command
from django.db import connection

from apps.corpus.licences import NOT_RECORDED, OPEN
from apps.corpus.models import Image, ImportProgress
from tests.corpus.hf_data import picture_bytes, place_in_hub_cache, write_dataset, write_shard
from tests.roco_data import REAL_ROCO

REPO = "mdwiratathya/ROCO-radiology"
ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not REAL_ROCO.is_dir(), reason=f"real ROCO metadata not found at {REAL_ROCO}"),
]


def roco_ids(count: int) -> list[str]:
    lines = (REAL_ROCO / "captions.txt").read_text(encoding="utf-8").splitlines()
    return [line.split("\t", 1)[0] for line in lines[:count]]


def rows_for(ids: list[str], *, size=(64, 48)) -> list[dict]:
    """Real JPEG and PNG bytes (every third a PNG), the ROCO ids, and captions."""
    return [
        {
            "image": picture_bytes(n, fmt="PNG" if n % 3 == 0 else "JPEG", size=size),
            "image_id": external_id,
            "caption": f"Radiograph number {n} of the chest. ",
        }
        for n, external_id in enumerate(ids)
    ]


@pytest.fixture
def hub_cache(tmp_path, monkeypatch):
    """An empty huggingface_hub cache for this test, and the hub switched off as on this machine."""
    from huggingface_hub import constants

    cache = tmp_path / "hf-cache"
    cache.mkdir()
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return cache


def cached_dataset(tmp_path: Path, cache: Path, shards: list[list[dict]], split="validation") -> Path:
    """Shards written in the repository layout, then placed where a hub download lands in the cache."""
    folder = tmp_path / "repo"
    write_dataset(folder, split, shards)
    return place_in_hub_cache(cache, REPO, folder)


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("import_hf", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def children(pid: int) -> list[int]:
    return [
        int(child)
        for task in Path(f"/proc/{pid}/task").iterdir()
        for child in (task / "children").read_text().split()
    ]


def state() -> list[tuple]:
    """Everything an import decides about the stored entries."""
    return sorted(
        Image.objects.values_list(
            "dataset__slug",
            "external_id",
            "split",
            "category",
            "caption",
            "licence",
            "licence_raw",
            "pmc_id",
            "keywords",
            "cuis",
            "file",
            "thumbnail",
            "sha256",
            "width",
            "height",
            "format",
        )
    )


def test_hub_dataset_in_the_cache_imports_offline_with_its_png_and_jpeg_images(tmp_path, hub_cache):
    ids = roco_ids(25)
    rows = rows_for(ids)
    cached_dataset(tmp_path, hub_cache, [rows[:15], rows[15:]])

    output = run(REPO, "--split", "validation", "--offline", "--no-embed")

    assert "imported 25, updated 0, skipped 0, failed 0" in output
    roco = Image.objects.filter(dataset__slug="roco")
    assert roco.count() == 25 and not roco.filter(file="").exists()
    jpeg, png = roco.get(external_id=ids[1]), roco.get(external_id=ids[3])
    assert jpeg.format == "JPEG" and jpeg.file.name.endswith(".jpg")
    assert png.format == "PNG" and png.file.name.endswith(".png")
    assert jpeg.file.read() == rows[1]["image"]  # stored byte for byte
    assert (jpeg.width, jpeg.height) == (64, 48)
    assert jpeg.thumbnail and jpeg.thumbnail.read()[:3] == b"\xff\xd8\xff"
    assert jpeg.caption == "Radiograph number 1 of the chest."
    assert jpeg.split == "validation"
    # Nothing in the parquet says under which licence an image is: not recorded, so not open.
    assert set(roco.values_list("licence", flat=True)) == {NOT_RECORDED}
    assert not roco.filter(licence__in=OPEN).exists()
    assert "no --metadata: licences are not recorded" in output
    assert (
        "caption: 25 entries have no vector in the caption space yet — run `manage.py embed --space caption`"
        in output
    )
    assert not ImportProgress.objects.exists()


def test_local_folder_in_the_same_layout_imports_the_same_way(tmp_path):
    ids = roco_ids(6)
    write_dataset(tmp_path / "ROCO-radiology", "test", [rows_for(ids)])

    output = run(str(tmp_path / "ROCO-radiology"), "--split", "test", "--no-embed")

    assert "imported 6, updated 0, skipped 0, failed 0" in output
    assert Image.objects.filter(dataset__slug="roco", split="test").count() == 6


def test_real_roco_metadata_is_joined_by_roco_id(tmp_path, hub_cache):
    ids = roco_ids(40)
    cached_dataset(tmp_path, hub_cache, [rows_for(ids)])

    output = run(REPO, "--split", "validation", "--offline", "--no-embed", "--metadata", str(REAL_ROCO))

    assert "ROCO metadata: 8180 entries" in output
    assert "imported 40, updated 0, skipped 0, failed 0" in output
    first = Image.objects.get(external_id="ROCO_00020")
    assert first.file and first.caption == "Radiograph number 0 of the chest."  # the parquet's caption
    assert first.licence == "cc-by" and first.licence_raw == "CC BY"
    assert first.pmc_id == "PMC3970251"
    assert first.article_url == "https://www.ncbi.nlm.nih.gov/pmc/articles/PMC3970251/"
    assert "bladder" in first.keywords and first.cuis[0] == "C4300092"
    assert ["T060", "Diagnostic Procedure"] in first.semtypes
    assert first.category == "radiology"
    # The licences are ROCO's own, NO-CC CODE included.
    published = {}
    for line in (REAL_ROCO / "licences.txt").read_text(encoding="utf-8").splitlines()[1:]:
        roco_id, _, cc = line.split(",", 2)
        published[roco_id] = cc
    assert {i.external_id: i.licence_raw for i in Image.objects.all()} == {i: published[i] for i in ids}


def test_corrupt_image_row_is_reported_with_shard_row_and_id_and_skipped(tmp_path, hub_cache):
    ids = roco_ids(8)
    rows = rows_for(ids)
    rows[4]["image"] = rows[4]["image"][:200]  # a truncated JPEG
    rows[6]["image"] = b"not an image at all"
    cached_dataset(tmp_path, hub_cache, [rows])

    output = run(REPO, "--split", "validation", "--offline", "--no-embed")

    assert "imported 6, updated 0, skipped 0, failed 2" in output
    assert (
        f"validation-00000-of-00001.parquet row 4: unreadable image: {ids[4]}: the picture is damaged"
        in output
    )
    assert (
        f"validation-00000-of-00001.parquet row 6: unreadable image: {ids[6]}: not a supported picture"
        in output
    )
    assert not Image.objects.filter(external_id__in=[ids[4], ids[6]]).exists()


def test_shard_missing_a_column_is_a_clear_error_naming_it_and_the_columns_found(tmp_path, hub_cache):
    ids = roco_ids(3)
    folder = tmp_path / "repo"
    rows = [{"image": picture_bytes(n), "image_id": i, "text": "a caption"} for n, i in enumerate(ids)]
    write_shard(folder / "data" / "validation-00000-of-00001.parquet", rows)
    place_in_hub_cache(hub_cache, REPO, folder)

    with pytest.raises(CommandError) as error:
        run(REPO, "--split", "validation", "--offline", "--no-embed")
    message = str(error.value)
    assert "no column 'caption'" in message
    assert "its columns are 'image', 'image_id', 'text'" in message
    assert "--caption-column" in message
    assert not Image.objects.exists()

    output = run(REPO, "--split", "validation", "--offline", "--no-embed", "--caption-column", "text")
    assert "imported 3, updated 0, skipped 0, failed 0" in output


def test_a_dataset_absent_from_the_cache_offline_says_so(hub_cache):
    with pytest.raises(CommandError, match="not in the huggingface_hub cache and HF_HUB_OFFLINE is set"):
        run(REPO, "--split", "validation", "--offline")


def test_rerun_imports_nothing_twice(tmp_path, hub_cache):
    cached_dataset(tmp_path, hub_cache, [rows_for(roco_ids(12))])
    run(REPO, "--split", "validation", "--offline", "--no-embed")
    before = state()

    output = run(REPO, "--split", "validation", "--offline", "--no-embed")

    assert "imported 0, updated 0, skipped 12, failed 0" in output
    assert state() == before


def test_limit_imports_the_first_rows_only(tmp_path, hub_cache):
    ids = roco_ids(30)
    rows = rows_for(ids)
    cached_dataset(tmp_path, hub_cache, [rows[:10], rows[10:]])

    output = run(REPO, "--split", "validation", "--offline", "--no-embed", "--limit", "14")

    assert "imported 14, updated 0" in output
    assert sorted(Image.objects.values_list("external_id", flat=True)) == sorted(ids[:14])


def test_metadata_only_entries_of_import_roco_are_completed_and_keep_their_metadata(tmp_path, hub_cache):
    ids = roco_ids(20)
    call_command("import_roco", str(REAL_ROCO), "--no-embed", stdout=io.StringIO(), stderr=io.StringIO())
    assert Image.objects.count() == 8180 and not Image.objects.exclude(file="").exists()
    cached_dataset(tmp_path, hub_cache, [rows_for(ids)])

    # Without --metadata: the images are added, and nothing ROCO's files said is lost.
    output = run(REPO, "--split", "validation", "--offline", "--no-embed")

    assert "imported 0, updated 20, skipped 0, failed 0" in output
    assert Image.objects.count() == 8180
    first = Image.objects.get(external_id="ROCO_00020")
    assert first.file and first.format in ("JPEG", "PNG")
    assert first.licence == "cc-by" and first.pmc_id == "PMC3970251" and "bladder" in first.keywords
    assert first.caption == "Radiograph number 0 of the chest."
    assert Image.objects.exclude(file="").count() == 20


def test_import_roco_after_import_hf_completes_its_metadata_and_keeps_its_images(tmp_path, hub_cache):
    ids = roco_ids(10)
    cached_dataset(tmp_path, hub_cache, [rows_for(ids)])
    run(REPO, "--split", "validation", "--offline", "--no-embed")
    assert Image.objects.get(external_id="ROCO_00020").licence == NOT_RECORDED

    out = io.StringIO()
    call_command("import_roco", str(REAL_ROCO), "--no-embed", stdout=out, stderr=io.StringIO())

    assert "imported 8170, updated 10, skipped 0, failed 0" in out.getvalue()
    first = Image.objects.get(external_id="ROCO_00020")
    assert first.file and first.licence == "cc-by" and first.pmc_id == "PMC3970251"
    assert Image.objects.exclude(file="").count() == 10
    assert Image.objects.count() == 8180


@pytest.mark.django_db(transaction=True)
def test_killed_import_resumes_where_it_stopped_and_ends_as_an_uninterrupted_one(tmp_path, hub_cache):
    ids = roco_ids(300)
    rows = rows_for(ids, size=(600, 450))  # big enough that the import takes a few seconds
    cached_dataset(tmp_path, hub_cache, [rows[:100], rows[100:200], rows[200:]])
    args = [REPO, "--split", "validation", "--offline", "--no-embed", "--batch-size", "10"]

    run(*args)
    uninterrupted = state()
    assert len(uninterrupted) == 300
    Image.objects.all().delete()

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "mirage_site.settings",
        "MIRAGE_DB_NAME": connection.settings_dict["NAME"],
        "MIRAGE_MEDIA_ROOT": str(django_settings.MEDIA_ROOT),
        "OMP_NUM_THREADS": "1",
    }
    process = subprocess.Popen(
        [sys.executable, "manage.py", "import_hf", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        progress = ImportProgress.objects.first()
        if progress and progress.rows_done >= 110:  # into the second shard
            workers = children(process.pid)
            process.send_signal(signal.SIGKILL)
            break
        time.sleep(0.02)
    assert process.wait(timeout=60) == -signal.SIGKILL, "the import finished before it could be killed"
    # Its decoding workers go with it (an orphan would keep its database connection open).
    assert workers
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(Path(f"/proc/{pid}").exists() for pid in workers):
        time.sleep(0.1)
    assert not [pid for pid in workers if Path(f"/proc/{pid}").exists()]
    progress = ImportProgress.objects.get()
    stored = Image.objects.count()
    assert progress.rows_done == stored < 300  # the position covers exactly the committed rows
    assert progress.shard != "validation-00000-of-00003.parquet"

    output = run(*args)

    assert f"resumed an interrupted import at {progress.shard} row {progress.next_row}" in output
    assert f"imported {300 - stored}, updated 0, skipped 0, failed 0" in output  # nothing read twice
    assert state() == uninterrupted
    assert not ImportProgress.objects.exists()


def test_a_run_with_other_options_does_not_resume_anothers_position(tmp_path, hub_cache):
    ids = roco_ids(30)
    rows = rows_for(ids)
    cached_dataset(tmp_path, hub_cache, [rows[:15], rows[15:]])
    run(REPO, "--split", "validation", "--offline", "--no-embed", "--limit", "20")
    Image.objects.all().delete()
    ImportProgress.objects.create(
        source=f"hub:{REPO}",
        split="validation",
        fingerprint="from another run",
        shard="validation-00001-of-00002.parquet",
        next_row=5,
        rows_done=20,
    )

    output = run(REPO, "--split", "validation", "--offline", "--no-embed")

    assert "resumed" not in output
    assert "imported 30, updated 0" in output


def test_an_import_embeds_the_caption_space_itself_and_names_what_is_left(tmp_path, hub_cache):
    from apps.corpus.models import Embedding

    cached_dataset(tmp_path, hub_cache, [rows_for(roco_ids(5))])

    output = run(REPO, "--split", "validation", "--offline")

    assert "caption: embedded 5, failed 0" in output
    assert Embedding.objects.filter(space__name="caption").count() == 5
    assert "caption: 5 entries have no vector" not in output
    # The paper's CLIP model is not installed here: the command says what gives those vectors.
    assert "clip: 5 entries have no vector in the CLIP image space yet" in output
