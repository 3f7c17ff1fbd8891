"""Writes to the corpus: importing entries (with their images) in committed batches."""

from __future__ import annotations

import contextlib
import errno
import functools
import hashlib
import io
import logging
import os
import socket
import tempfile
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

import psutil
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, default_storage
from django.db import DatabaseError, connection, transaction

from apps.core.errors import StorageFull
from apps.corpus import imaging
from apps.corpus.licences import normalize_licence
from apps.corpus.modality import derive_modality
from apps.corpus.models import Dataset, Image
from apps.corpus.records import EntryRecord, ParseProblem
from apps.corpus.selectors import COMMON_WORDS_KEY, CORPUS_COUNTS_KEY

logger = logging.getLogger(__name__)

# Files being written carry this prefix until they are whole; `manage.py media check` lists leftovers.
PARTIAL_PREFIX = ".partial-"

# Fields copied from a record onto an Image row; a re-import updates a row only when one of them changed.
_METADATA_FIELDS = (
    "split",
    "category",
    "caption",
    "keywords",
    "cuis",
    "semtypes",
    "modality",
    "licence_raw",
    "licence",
    "attribution",
    "pmc_id",
    "article_url",
    "source_url",
    "image_name",
)


@dataclass
class ImportSummary:
    imported: int = 0
    updated: int = 0
    skipped: int = 0  # already stored and unchanged, or a duplicate image
    failed: int = 0
    metadata_only: list[str] = field(default_factory=list)  # external ids stored without an image file
    problems: list[ParseProblem] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [
            f"imported {self.imported}, updated {self.updated}, skipped {self.skipped}, failed {self.failed}",
        ]
        if self.metadata_only:
            shown = ", ".join(self.metadata_only[:10])
            more = f" and {len(self.metadata_only) - 10} more" if len(self.metadata_only) > 10 else ""
            out.append(f"{len(self.metadata_only)} metadata-only (image file not found): {shown}{more}")
        for problem in self.problems:
            out.append(f"problem: {problem}")
        return out


@dataclass
class _PreparedImage:
    data: bytes
    extension: str
    format: str
    width: int
    height: int
    sha256: str
    thumbnail: bytes


def dataset_get_or_create(*, slug: str, name: str, description: str = "", url: str = "") -> Dataset:
    dataset, _ = Dataset.objects.get_or_create(
        slug=slug, defaults={"name": name, "description": description, "url": url}
    )
    return dataset


def import_records(
    *,
    dataset: Dataset,
    records: Iterable[EntryRecord],
    batch_size: int = 200,
    on_progress: Callable[[int], None] | None = None,
) -> ImportSummary:
    """Store records as Image rows, one committed transaction per batch.

    Re-running with the same records changes nothing; an interrupted run leaves only whole
    batches behind, and the next run completes it. An unreadable image is reported and that
    entry skipped; an absent image file makes a metadata-only entry that a later run completes.
    """
    summary = ImportSummary()
    discard_abandoned_partials()
    for batch in _batches(iter(records), batch_size):
        import_batch(dataset=dataset, records=batch, summary=summary)
        if on_progress:
            on_progress(len(batch))
    return summary


def _batches(items: Iterator[EntryRecord], size: int) -> Iterator[list[EntryRecord]]:
    while batch := list(islice(items, size)):
        yield batch


def import_batch(
    *,
    dataset: Dataset,
    records: list[EntryRecord],
    summary: ImportSummary,
    checkpoint: Callable[[], None] | None = None,
    pool: Executor | None = None,
) -> None:
    """Store one batch of records in one transaction, counting what happened into `summary`.

    Images are read and thumbnailed before the transaction opens, so it stays short; with `pool` (a
    process pool, for records without a `render` function) they are read in parallel. `checkpoint`
    runs inside the transaction after the rows are written: a resumable importer records its
    position there, so the position and the rows it covers are committed together or not at all.
    """
    written: list[str] = []
    try:
        _import_batch(
            dataset=dataset,
            records=records,
            summary=summary,
            checkpoint=checkpoint,
            pool=pool,
            written=written,
        )
    except BaseException:
        # The batch's rows were rolled back: its files would be orphans (a rerun writes them again).
        _discard_unreferenced(written)
        raise


def _import_batch(*, dataset, records, summary, checkpoint, pool, written: list[str]) -> None:
    existing = {
        image.external_id: image
        for image in Image.objects.filter(dataset=dataset, external_id__in=[r.external_id for r in records])
    }
    todo = [r for r in records if not ((stored := existing.get(r.external_id)) and stored.file)]
    mapper = functools.partial(pool.map, chunksize=4) if pool else map
    outcomes = dict(zip(map(id, todo), mapper(_prepare_or_error, todo), strict=True))
    ready: list[tuple[EntryRecord, _PreparedImage | None]] = []
    for record in records:
        outcome = outcomes.get(id(record))
        if isinstance(outcome, str):
            summary.failed += 1
            where = record.origin or (str(record.image_path) if record.image_path else record.external_id)
            summary.problems.append(ParseProblem(file=where, line=0, reason=f"unreadable image: {outcome}"))
        else:
            ready.append((record, outcome))
    with transaction.atomic():
        # Who already holds each image (by content hash), across datasets; claimed as the batch goes.
        owners = {
            sha: (dataset_id, external_id)
            for sha, dataset_id, external_id in Image.objects.filter(
                sha256__in=[prepared.sha256 for _, prepared in ready if prepared]
            ).values_list("sha256", "dataset_id", "external_id")
        }
        created: list[Image] = []
        for record, prepared in ready:
            stored = existing.get(record.external_id)
            if prepared:
                owner = owners.setdefault(prepared.sha256, (dataset.pk, record.external_id))
                if owner != (dataset.pk, record.external_id):
                    summary.skipped += 1
                    summary.problems.append(
                        ParseProblem(
                            file=record.external_id, line=0, reason=f"same image as {owner[1]} already stored"
                        )
                    )
                    continue
            values = _metadata(record)
            if reason := _overlong(record.external_id, values):
                summary.failed += 1
                summary.problems.append(ParseProblem(file=record.external_id[:200], line=0, reason=reason))
                continue
            if stored is None:
                image = Image(dataset=dataset, external_id=record.external_id, **values)
                _attach(image, prepared, written)
                created.append(image)
                existing[record.external_id] = image
                summary.imported += 1
            else:
                known = (
                    values
                    if record.known_fields is None
                    else {name: value for name, value in values.items() if name in record.known_fields}
                )
                changed = [name for name, value in known.items() if getattr(stored, name) != value]
                for name in changed:
                    setattr(stored, name, known[name])
                if prepared:
                    _attach(stored, prepared, written)
                    changed += ["file", "thumbnail", "width", "height", "format", "sha256"]
                # The same id twice in one batch: its row is not written yet, so it is counted once.
                if not changed or stored.pk is None:
                    summary.skipped += 1
                else:
                    stored.save(update_fields=[*changed, "updated_at"])
                    summary.updated += 1
                image = stored
            if not image.file:
                summary.metadata_only.append(record.external_id)
        _copy_images(created)
        if checkpoint:
            checkpoint()


def _copy_images(images: list[Image]) -> None:
    """Insert new rows with COPY: the same values `bulk_create` writes (defaults, `auto_now` times,
    each field's database form), without building and parsing one INSERT with thousands of
    parameters — that took most of a metadata import's time."""
    if not images:
        return
    fields = [f for f in Image._meta.concrete_fields if not f.primary_key and not f.generated]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    sql = f"COPY {Image._meta.db_table} ({columns}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for image in images:
            copy.write_row([f.get_db_prep_save(f.pre_save(image, add=True), connection) for f in fields])


def corpus_statistics_refresh() -> None:
    """The corpus changed (an import ran): PostgreSQL's statistics of the image table are refreshed
    (`ANALYZE`: the planner's, and the common caption words full-text search leaves aside) and the
    cached counts and common words forgotten, so the next search page reads them again."""
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Image._meta.db_table}")
    try:
        cache.delete_many([CORPUS_COUNTS_KEY, COMMON_WORDS_KEY])
    except DatabaseError:  # no cache table yet (`createcachetable` not run): nothing cached to forget
        logger.info("no cache table; corpus counts were not cached")


def _metadata(record: EntryRecord) -> dict[str, object]:
    keywords = [k for k in record.keywords if k]
    values: dict[str, object] = {
        "split": record.split,
        "category": record.category,
        "caption": record.caption.strip(),
        "keywords": keywords,
        "cuis": list(record.cuis),
        "semtypes": [list(pair) for pair in record.semtypes],
        "modality": record.modality or derive_modality(record.caption, keywords, list(record.semtypes)),
        "licence_raw": record.licence_raw,
        "licence": record.licence or normalize_licence(record.licence_raw),
        "attribution": record.attribution,
        "pmc_id": record.pmc_id,
        "article_url": record.article_url,
        "source_url": record.source_url,
        "image_name": record.image_name,
    }
    assert set(values) == set(_METADATA_FIELDS)
    return {name: _without_nul(value) for name, value in values.items()}


def _prepare_or_error(record: EntryRecord) -> _PreparedImage | str | None:
    """_prepare_image, with an unreadable image as its message (what crosses a process pool)."""
    try:
        return _prepare_image(record)
    except imaging.ImageError as exc:
        return str(exc)


def _overlong(external_id: str, values: dict[str, object]) -> str | None:
    """Why the entry does not fit its columns (a source's value longer than the column holds), or None."""
    limits = {"external_id": Image._meta.get_field("external_id").max_length}
    for name in values:
        column = Image._meta.get_field(name)
        column = getattr(column, "base_field", column)  # an ArrayField's items
        if column.max_length:
            limits[name] = column.max_length
    for name, limit in limits.items():
        value = external_id if name == "external_id" else values[name]
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str) and len(item) > limit:
                return f"{name.replace('_', ' ')} longer than {limit} characters: {item[:40]!r}…"
    return None


def _without_nul(value):
    """PostgreSQL text cannot hold NUL characters, and in a caption or keyword they mean nothing: any a
    source carries (a stray byte, a JSON "\\u0000") are dropped rather than failing the whole batch."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [_without_nul(item) for item in value]
    return value


def _prepare_image(record: EntryRecord) -> _PreparedImage | None:
    """Read and check the record's image; None when the entry has no image file (yet)."""
    if record.render is not None:
        picture = record.render()
        data, fmt, size = imaging.encode_png(picture), "PNG", picture.size
    else:
        if record.image_bytes is not None:
            raw, name = record.image_bytes, record.external_id
        elif record.image_path is not None and record.image_path.is_file():
            raw, name = imaging.read_file(record.image_path), record.image_path.name
        else:
            return None
        if raw[:3] == b"\xff\xd8\xff" or raw[:8] == imaging.PNG_SIGNATURE:
            # Decoded only as far as the thumbnail needs; stored without metadata (EXIF, XMP, text
            # chunks), the image data byte for byte (decoded whole only if it must be re-encoded).
            size, picture = imaging.open_image_reduced(raw, name=name, at_least=imaging.THUMBNAIL_SIZE)
            data, fmt = imaging.storable(raw, render=lambda: imaging.open_image_bytes(raw, name=name))
        else:  # DICOM and the rest: stored as the PNG rendered from it
            picture = imaging.open_image_bytes(raw, name=name)
            data, fmt, size = imaging.encode_png(picture), "PNG", picture.size
    thumb = io.BytesIO()
    imaging.make_thumbnail(picture).convert("RGB").save(thumb, format="JPEG", quality=85)
    return _PreparedImage(
        data=data,
        extension={"JPEG": "jpg", "PNG": "png"}[fmt],
        format=fmt,
        width=size[0],
        height=size[1],
        sha256=hashlib.sha256(data).hexdigest(),
        thumbnail=thumb.getvalue(),
    )


def _attach(image: Image, prepared: _PreparedImage | None, written: list[str]) -> None:
    """Point the row at its files, named by content hash so a re-run rewrites nothing."""
    if prepared is None:
        return
    sha = prepared.sha256
    image.file.name = store_file(f"images/{sha[:2]}/{sha}.{prepared.extension}", prepared.data)
    written.append(image.file.name)
    image.thumbnail.name = store_file(f"thumbs/{sha[:2]}/{sha}.jpg", prepared.thumbnail)
    written.append(image.thumbnail.name)
    image.width, image.height, image.format, image.sha256 = (
        prepared.width,
        prepared.height,
        prepared.format,
        sha,
    )


def _discard_unreferenced(names: list[str]) -> None:
    """Delete the files among `names` that no Image row points at. Best effort: with the database away
    nothing is deleted, and `manage.py media check --fix` finds them later."""
    try:
        kept = set(Image.objects.filter(file__in=names).values_list("file", flat=True))
        kept |= set(Image.objects.filter(thumbnail__in=names).values_list("thumbnail", flat=True))
    except DatabaseError:
        return
    for name in set(names) - kept:
        with contextlib.suppress(OSError):
            default_storage.delete(name)


def _partial_prefix() -> str:
    # Who writes it, so that a file a killed process left can be told from one being written now.
    return f"{PARTIAL_PREFIX}{socket.gethostname()}-{os.getpid()}-"


def discard_abandoned_partials() -> int:
    """Remove the temporary files of writers on this machine that died mid-write (killed, crashed).
    Returns how many were removed. Files of live writers, and of other machines, are left alone."""
    if not isinstance(default_storage, FileSystemStorage):
        return 0
    root, host, removed = Path(default_storage.location), socket.gethostname(), 0
    for folder, _dirs, files in os.walk(root):
        for name in files:
            if not name.startswith(PARTIAL_PREFIX):
                continue
            writer = name[len(PARTIAL_PREFIX) :].rsplit("-", 2)
            mine = len(writer) == 3 and writer[0] == host and writer[1].isdigit()
            if mine and not psutil.pid_exists(int(writer[1])):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(Path(folder) / name)
                    removed += 1
    return removed


def store_file(name: str, data: bytes) -> str:
    """Save a file under a content-derived name; an existing whole file of that name is kept, not rewritten.

    Every stored file (imports, generated images) goes through here. On the local file system the bytes
    are written to a hidden temporary name in the same folder, synced and renamed into place, so a
    killed process or a full disk never leaves a half-written file under a name a page can serve.
    A full disk raises StorageFull.
    """
    if not isinstance(default_storage, FileSystemStorage):
        # Object storage writes an object whole or not at all.
        if default_storage.exists(name):
            return name
        return default_storage.save(name, ContentFile(data))
    path = Path(default_storage.path(name))
    # Same name, same content hash: a file of the right size is this file (a shorter one was cut off
    # by a crash before writes were atomic, and is replaced).
    if path.is_file() and path.stat().st_size == len(data):
        return name
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=_partial_prefix())
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(temporary, 0o644)
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            raise StorageFull(f"the file {name} could not be stored") from exc
        raise
    return name
