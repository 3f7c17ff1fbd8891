"""Export a study set as a ZIP: its images plus a CSV with everything needed to cite each one."""

from __future__ import annotations

import contextlib
import csv
import errno
import io
import posixpath
import tempfile
import zipfile
from typing import BinaryIO

from django.http import FileResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from apps.core.errors import StorageFull
from apps.studysets.models import StudySet
from apps.studysets.selectors import studyset_items_visible, studyset_notes_visible

CSV_NAME = "images.csv"
# Exports larger than this are built in a temporary file (in the system's temporary folder) instead of memory.
SPOOL_BYTES = 16 * 1024 * 1024
CSV_COLUMNS = [
    "position",
    "file",
    "caption",
    "note",
    "modality",
    "keywords",
    "dataset",
    "external_id",
    "article_url",
    "pmc_id",
    "source_url",
    "licence",
    "licence_as_published",
    "attribution",
    "synthetic",
    "mirage_url",
]


# A spreadsheet reads a cell that begins with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value):
    """A value as a CSV cell that a spreadsheet shows as text: text that begins like a formula gets
    a leading apostrophe. Used by every CSV export (study sets here, quiz results)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def export_filename(studyset: StudySet) -> str:
    return f"{slugify(studyset.title) or 'study-set'}-{studyset.pk}.zip"


def studyset_export_zip(*, studyset: StudySet, user, out: BinaryIO, base_url: str = "") -> int:
    """Write the ZIP to `out`: `images/NNN-<id>.<ext>`, `images.csv` and `README.txt`.

    Holds only the items this user may see, and their notes only when this user may read them.
    Returns the number of items written.
    """
    items = list(studyset_items_visible(studyset=studyset, user=user))
    with_notes = studyset_notes_visible(studyset=studyset, user=user)
    rows = io.StringIO()
    writer = csv.DictWriter(rows, fieldnames=CSV_COLUMNS)
    writer.writeheader()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for number, item in enumerate(items, start=1):
            image = item.image
            name = _add_image_file(archive, image, number)
            row = {
                "position": number,
                "file": name,
                "caption": image.caption,
                "note": item.note if with_notes else "",
                "modality": image.get_modality_display(),
                "keywords": "; ".join(image.keywords),
                "dataset": image.dataset.name,
                "external_id": image.external_id,
                "article_url": image.article_url,
                "pmc_id": image.pmc_id,
                "source_url": image.source_url,
                "licence": image.get_licence_display(),
                "licence_as_published": image.licence_raw,
                "attribution": image.attribution,
                "synthetic": "yes" if image.is_synthetic else "no",
                "mirage_url": base_url.rstrip("/") + reverse("corpus:image_detail", args=[image.pk]),
            }
            writer.writerow({column: csv_cell(value) for column, value in row.items()})
        archive.writestr(CSV_NAME, "\ufeff" + rows.getvalue())  # BOM: spreadsheets then read UTF-8
        archive.writestr("README.txt", _readme(studyset, len(items), with_notes=with_notes))
    return len(items)


def studyset_export_response(*, studyset: StudySet, user, base_url: str) -> FileResponse:
    """The ZIP as a download (for the page and the API)."""
    # Spooled: small sets stay in memory, large ones go to a temporary file, never all in RAM.
    # FileResponse closes the file once sent, so no context manager here.
    out = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115
    try:
        studyset_export_zip(studyset=studyset, user=user, out=out, base_url=base_url)
    except OSError as exc:
        with contextlib.suppress(OSError):  # closing flushes, which may meet the full disk again
            out.close()  # the temporary file has no name; closing it gives its space back at once
        if exc.errno == errno.ENOSPC:
            raise StorageFull("the export could not be written") from exc
        raise
    out.seek(0)
    return FileResponse(
        out, as_attachment=True, filename=export_filename(studyset), content_type="application/zip"
    )


def _add_image_file(archive: zipfile.ZipFile, image, number: int) -> str:
    """Store the image file (already compressed, so stored as is); "" when the entry has none."""
    if not image.file:
        return ""
    extension = posixpath.splitext(image.file.name)[1].lower() or ".png"
    name = f"images/{number:03d}-{slugify(image.external_id) or image.pk}{extension}"
    try:
        with image.file.open("rb") as source:
            archive.writestr(name, source.read(), compress_type=zipfile.ZIP_STORED)
    except FileNotFoundError:
        return ""
    return name


def _readme(studyset: StudySet, count: int, *, with_notes: bool) -> str:
    notes = "the set's notes" if with_notes else "no notes (the owner keeps them private)"
    lines = [
        studyset.title,
        "=" * len(studyset.title),
        "",
        *([studyset.description, ""] if studyset.description else []),
        f"{count} images, exported from MIRAGE on {timezone.now():%Y-%m-%d %H:%M} UTC.",
        "",
        f"{CSV_NAME} lists each image with its caption, {notes}, its source article or source,",
        "dataset, licence (normalized and as published) and attribution. Check each image's licence",
        "before reuse and credit its source. Images marked synthetic=yes were made by a generative",
        "model, not taken from a patient.",
        "",
        "For education, not diagnosis.",
        "",
    ]
    return "\n".join(lines)
