"""A full disk (a real tmpfs of a few hundred KiB, mounted by the test) during an import, a file store
and a study-set export: a clear reason, no half-written file where a page could serve it, and
everything else keeps working. The generation job's store step is in tests/generation/test_disk_full.py."""

from __future__ import annotations

import io
import tempfile
import zipfile

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from apps.core.errors import StorageFull
from apps.corpus.models import Image
from apps.corpus.services import store_file
from apps.operations.media import media_check, media_files
from apps.studysets import export
from tests import factories
from tests.operations.corpora import file_hashes, picture, write_folder
from tests.studysets.helpers import studyset

pytestmark = pytest.mark.django_db


def test_storing_a_file_on_a_full_disk_raises_storage_full_and_leaves_nothing(small_filesystem, settings):
    media = small_filesystem.mount(256)
    settings.MEDIA_ROOT = media
    small_filesystem.fill(media, leave_kib=8)
    data = bytes(range(256)) * 400  # 100 KiB

    with pytest.raises(StorageFull) as caught:
        store_file("images/ab/abcdef.png", data)

    assert "disk is full" in str(caught.value) and "images/ab/abcdef.png" in str(caught.value)
    assert media_files(media) == {"filler.bin"}  # neither the file nor its temporary name is left
    (media / "filler.bin").unlink()
    assert store_file("images/ab/abcdef.png", data) == "images/ab/abcdef.png"
    assert (media / "images/ab/abcdef.png").read_bytes() == data


def test_a_file_cut_short_by_an_earlier_crash_is_replaced_not_kept(settings):
    data = b"whole image bytes" * 100
    cut = settings.MEDIA_ROOT / "images" / "cd" / "cdef.png"
    cut.parent.mkdir(parents=True)
    cut.write_bytes(data[:50])

    store_file("images/cd/cdef.png", data)

    assert cut.read_bytes() == data


def test_an_import_that_fills_the_disk_stops_with_the_reason_keeps_whole_batches_and_resumes(
    small_filesystem, settings, tmp_path, client
):
    corpus = write_folder(tmp_path / "corpus", 300)  # two batches: 200, then 100
    per_entry = sum(p.stat().st_size for p in (corpus / "pics").iterdir()) / 300
    # Room for the first batch (images and thumbnails) but not the second.
    media = small_filesystem.mount(int(per_entry * 1.6 * 250 / 1024))
    settings.MEDIA_ROOT = media
    args = ["import_folder", str(corpus), "--captions", str(corpus / "captions.jsonl"), "--no-embed"]

    with pytest.raises(CommandError) as caught:
        call_command(*args, stdout=io.StringIO())

    message = str(caught.value)
    assert "disk is full" in message and "run the same import again" in message
    assert Image.objects.count() == 200  # the first batch, whole; the second rolled back
    report = media_check()
    assert report.orphans == [] and report.missing == []  # the failed batch took its files with it
    assert not [name for name in media_files(media) if ".partial-" in name]
    # Nothing else broke: pages and the stored images still answer.
    first = Image.objects.order_by("pk").first()
    assert client.get(reverse("corpus:image_detail", args=[first.pk])).status_code == 200
    assert client.get(first.file.url).status_code == 200

    small_filesystem.grow(media, 8 * 1024)  # an administrator frees space
    out = io.StringIO()
    call_command(*args, stdout=out)

    assert "imported 100, updated 0, skipped 200" in out.getvalue()
    assert Image.objects.count() == 300 and media_check().clean
    assert len(file_hashes(media)) == 600


def test_an_export_that_fills_the_disk_answers_507_and_keeps_no_partial_file(
    small_filesystem, client, monkeypatch
):
    owner = factories.user()
    images = factories.images(*(f"Chest CT slice {n}." for n in range(6)))
    for image in images:  # larger pictures, so the archive outgrows the small temporary folder
        with image.file.open("wb") as handle:
            picture(image.pk, size=160).save(handle, format="PNG")
    saved = studyset(owner, images, title="Thorax")
    scratch = small_filesystem.mount(128)
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    monkeypatch.setattr(export, "SPOOL_BYTES", 1024)  # to a file at once, as a large export goes
    client.force_login(owner)

    page = client.get(reverse("studysets:export", args=[saved.pk]))
    api = client.get(f"/api/studysets/{saved.pk}/export/", HTTP_ACCEPT="application/json")

    assert page.status_code == 507 and b"disk space" in page.content and "Retry-After" in page
    assert api.status_code == 507 and api.json()["error"]["code"] == "storage_full"
    assert list(scratch.iterdir()) == []  # the temporary file is gone with its space
    assert client.get(reverse("studysets:detail", args=[saved.pk])).status_code == 200

    monkeypatch.setattr(export, "SPOOL_BYTES", 16 * 1024 * 1024)  # the default: this one fits in memory
    done = client.get(reverse("studysets:export", args=[saved.pk]))
    assert done.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(b"".join(done.streaming_content)))
    assert len([n for n in archive.namelist() if n.startswith("images/")]) == 6
