"""An import killed mid-way (SIGKILL, in another process, as a crash or an OOM kill does) and run again
ends with the same rows and files as an uninterrupted import, and no orphan files in media/."""

from __future__ import annotations

import os
import shutil
import signal
import time

import pytest
from django.db import connection

from apps.corpus.models import Image
from apps.operations.media import media_check
from tests.operations.corpora import IMPORTERS, command_env, file_hashes, manage, manage_popen

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

ENTRIES = 600  # three batches of 200 (import_records' batch size)
BATCH = 200


def snapshot() -> list[tuple]:
    return sorted(
        Image.objects.values_list(
            "dataset__slug",
            "external_id",
            "split",
            "caption",
            "keywords",
            "cuis",
            "licence",
            "modality",
            "file",
            "thumbnail",
            "sha256",
            "width",
            "height",
        )
    )


def kill_after_first_batch(process, timeout: float = 120) -> int:
    """SIGKILL the import once its first batch is committed; returns the rows it left."""
    deadline = time.monotonic() + timeout
    while Image.objects.count() < BATCH:
        if process.poll() is not None:
            raise AssertionError(f"the import ended before it could be killed:\n{process.stdout.read()}")
        if time.monotonic() > deadline:
            raise AssertionError("the import stored nothing in time")
        time.sleep(0.02)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    return Image.objects.count()


@pytest.mark.parametrize("importer", sorted(IMPORTERS))
def test_an_import_killed_mid_way_and_run_again_equals_an_uninterrupted_one(
    importer, tmp_path, settings, capsys
):
    write, command = IMPORTERS[importer]
    corpus = write(tmp_path / "corpus", ENTRIES)
    media = tmp_path / "media"
    settings.MEDIA_ROOT = media
    env = command_env(database=connection.settings_dict["NAME"], media_root=media)

    left = kill_after_first_batch(manage_popen(command(corpus), env))
    assert BATCH <= left < ENTRIES, "the kill must land mid-way"
    assert left % BATCH == 0, "an interrupted import leaves whole batches only"

    rerun_started = time.monotonic()
    rerun = manage(command(corpus), env, timeout=300)
    rerun_seconds = time.monotonic() - rerun_started
    assert rerun.returncode == 0, rerun.stderr
    assert f"imported {ENTRIES - left}," in rerun.stdout
    resumed_rows, resumed_files = snapshot(), file_hashes(media)
    report = media_check()
    assert report.orphans == [] and report.missing == []

    # The same import, uninterrupted, from nothing.
    Image.objects.all().delete()
    shutil.rmtree(media)
    clean = manage(command(corpus), env, timeout=300)
    assert clean.returncode == 0, clean.stderr
    assert f"imported {ENTRIES}," in clean.stdout

    assert len(resumed_rows) == ENTRIES
    assert snapshot() == resumed_rows
    assert file_hashes(media) == resumed_files
    assert len(resumed_files) == 2 * ENTRIES  # an image and a thumbnail each
    with capsys.disabled():
        print(
            f"\n[killed import drill] {importer}: killed with {left}/{ENTRIES} stored; "
            f"rerun {rerun_seconds:.1f} s"
        )
