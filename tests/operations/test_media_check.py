"""`manage.py media check`: files without rows and rows without files, across every FileField; `--fix`
removes the files without rows and never a row."""

from __future__ import annotations

import os
import socket
import subprocess

import pytest
from django.core.management import CommandError, call_command

from apps.corpus.models import Image
from apps.corpus.services import PARTIAL_PREFIX
from apps.operations.media import file_fields, media_check
from tests import factories

pytestmark = pytest.mark.django_db


def run(*args) -> tuple[str, CommandError | None]:
    from io import StringIO

    out = StringIO()
    try:
        call_command("media", "check", *args, stdout=out)
    except CommandError as exc:
        return out.getvalue(), exc
    return out.getvalue(), None


def test_every_file_field_of_every_model_is_checked():
    found = {(model._meta.label, f.name) for model, f in file_fields()}
    assert {("corpus.Image", "file"), ("corpus.Image", "thumbnail")} <= found


def test_a_consistent_media_folder_is_reported_clean(settings):
    factories.images("CT of the chest.", "MRI of the knee.")

    out, error = run()

    assert error is None
    assert "4 files, 4 named by rows" in out
    assert "0 files without rows" in out and "0 rows without files" in out


def test_files_without_rows_and_rows_without_files_are_listed_and_the_check_fails(settings):
    kept, lost = factories.images("CT of the chest.", "MRI of the knee.")
    orphan = settings.MEDIA_ROOT / "images" / "zz" / "orphan.png"
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes(b"no row names me")
    partial = settings.MEDIA_ROOT / "images" / "zz" / f"{PARTIAL_PREFIX}abc123"
    partial.write_bytes(b"half")
    (settings.MEDIA_ROOT / lost.file.name).unlink()

    report = media_check()
    out, error = run()

    assert report.orphans == [f"images/zz/{PARTIAL_PREFIX}abc123", "images/zz/orphan.png"]
    assert [(m.model, m.pk, m.field, m.name) for m in report.missing] == [
        ("corpus.Image", lost.pk, "file", lost.file.name)
    ]
    assert error is not None
    assert "2 files without rows" in out and "images/zz/orphan.png" in out
    assert "1 rows without files" in out and f"corpus.Image #{lost.pk} file: {lost.file.name}" in out


def test_fix_removes_files_without_rows_and_keeps_every_row(settings):
    kept, lost = factories.images("CT of the chest.", "MRI of the knee.")
    orphan = settings.MEDIA_ROOT / "images" / "zz" / "orphan.png"
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes(b"no row names me")
    (settings.MEDIA_ROOT / lost.file.name).unlink()

    out, error = run("--fix")

    assert "removed 1 files without rows" in out
    assert not orphan.exists() and not orphan.parent.exists()  # its emptied folder too
    assert (settings.MEDIA_ROOT / kept.file.name).is_file()
    assert Image.objects.filter(pk__in=[kept.pk, lost.pk]).count() == 2  # rows are never removed
    assert error is not None  # the row without its file still needs an operator
    report = media_check()
    assert report.orphans == [] and len(report.missing) == 1


def test_metadata_only_entries_are_not_rows_without_files():
    factories.images("Caption only, the image comes later.", with_image=False)

    assert media_check().clean


def test_an_import_removes_what_a_killed_writer_left_and_keeps_a_live_writers_file(settings):
    gone = subprocess.Popen(["true"])
    gone.wait()  # a process that has exited: its pid names no one now
    folder = settings.MEDIA_ROOT / "images" / "ab"
    folder.mkdir(parents=True)
    abandoned = folder / f"{PARTIAL_PREFIX}{socket.gethostname()}-{gone.pid}-x1y2"
    in_progress = folder / f"{PARTIAL_PREFIX}{socket.gethostname()}-{os.getpid()}-z3w4"
    abandoned.write_bytes(b"half of an image")
    in_progress.write_bytes(b"being written")

    factories.images("CT of the chest.")

    assert not abandoned.exists() and in_progress.exists()
