"""Importing a Hugging Face image–caption dataset (parquet shards), joined with ROCO's metadata files.

Rows go through the same batch writer as every other importer (`services.import_batch`); the
position reached is committed with each batch (`ImportProgress`), so a killed import resumes at the
shard and row it stopped at and ends as an uninterrupted one would.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from apps.corpus.licences import NOT_RECORDED
from apps.corpus.models import Dataset, ImportProgress
from apps.corpus.records import EntryRecord, ParseProblem
from apps.corpus.services import ImportSummary, import_batch
from apps.corpus.sources.hf import Columns, Shard, folder_shards, hub_shards, read_rows, shard_rows
from apps.corpus.sources.roco import find_roco_folders, read_roco

# What a row without ROCO metadata states; a re-import leaves a stored entry's other fields alone.
_ROW_FIELDS = frozenset({"split", "caption"})
DEFAULT_COLUMNS = Columns()


@dataclass
class HfImportResult:
    summary: ImportSummary
    shards: int = 0
    resumed_at: str = ""  # "shard row N" when this run continued an interrupted one
    unjoined: list[str] = field(default_factory=list)  # ids the ROCO metadata does not hold


@dataclass
class RocoMetadata:
    entries: dict[str, EntryRecord]
    problems: list[ParseProblem]
    folders: list[Path]


def roco_metadata(path: Path, *, split: str) -> RocoMetadata:
    """ROCO's metadata files at `path` (as `import_roco` accepts it), by ROCO id: the split's folders,
    or every folder when none is labelled with that split. ValueError when there is no ROCO data."""
    try:
        found = find_roco_folders(path, split=split, category=None)
    except ValueError:
        found = find_roco_folders(path, split=None, category=None)
    entries: dict[str, EntryRecord] = {}
    problems: list[ParseProblem] = []
    for folder, folder_split, category in found:
        records, folder_problems = read_roco(folder, split=folder_split, category=category)
        problems += folder_problems
        for record in records:
            record.image_path = None  # the images come from the parquet
            entries[record.external_id] = record
    return RocoMetadata(entries=entries, problems=problems, folders=[f for f, _, _ in found])


def dataset_shards(source: str, *, split: str) -> tuple[str, str, list[Shard]]:
    """(progress key, version, shards) for a local folder or a hub id."""
    folder = Path(source).expanduser()
    if folder.is_dir():
        shards = folder_shards(folder, split)
        version = json.dumps([(s.name, s.fetch().stat().st_size) for s in shards])
        return f"folder:{folder.resolve()}", version, shards
    commit, shards = hub_shards(source, split)
    return f"hub:{source}", commit, shards


def import_hf(
    *,
    dataset: Dataset,
    source: str,
    split: str,
    columns: Columns = DEFAULT_COLUMNS,
    metadata: RocoMetadata | None = None,
    limit: int | None = None,
    batch_rows: int = 200,
    on_shard: Callable[[int, int, str, int], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
    workers: int | None = None,
) -> HfImportResult:
    """Import one split of a parquet image–caption dataset (hub id or local folder) into `dataset`.

    `on_shard(number, count, name, rows)` is called as each shard starts, `on_progress(rows)` after
    each committed batch. Images are decoded and thumbnailed by `workers` processes (default: one
    per core). Raises apps.corpus.sources.hf.SourceError for a dataset not in this layout.
    """
    workers = workers or os.cpu_count() or 1
    # Forked workers only decode pictures; they never touch the database connection they inherit,
    # and they leave with their parent, even one killed outright (else they would hold that
    # connection open, orphaned, for good).
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=_exit_with, initargs=(os.getpid(),)
    ) as pool:
        return _import(
            dataset=dataset,
            source=source,
            split=split,
            columns=columns,
            metadata=metadata,
            limit=limit,
            batch_rows=batch_rows,
            on_shard=on_shard,
            on_progress=on_progress,
            pool=pool,
        )


def _import(*, dataset, source, split, columns, metadata, limit, batch_rows, on_shard, on_progress, pool):
    key, version, shards = dataset_shards(source, split=split)
    fingerprint = _fingerprint(version, columns, metadata, limit)
    result = HfImportResult(summary=ImportSummary(), shards=len(shards))
    progress = ImportProgress.objects.filter(source=key, split=split).first()
    if progress and (progress.fingerprint != fingerprint or progress.shard not in {s.name for s in shards}):
        progress.delete()  # left by a run with other options: start over
        progress = None
    names = [s.name for s in shards]
    first = names.index(progress.shard) if progress else 0
    start_row = progress.next_row if progress else 0
    rows_done = progress.rows_done if progress else 0
    if progress:
        result.resumed_at = f"{progress.shard} row {start_row}"

    for number, shard in enumerate(shards[first:], start=first + 1):
        if limit is not None and rows_done >= limit:
            break
        path = shard.fetch()
        if on_shard:
            on_shard(number, len(shards), shard.name, shard_rows(path))
        for rows in read_rows(path, columns, start=start_row, batch_rows=batch_rows):
            if limit is not None:
                rows = rows[: max(limit - rows_done, 0)]
                if not rows:
                    break
            records = []
            for row in rows:
                origin = f"{shard.name} row {row.index}"
                if row.problem:
                    result.summary.failed += 1
                    result.summary.problems.append(ParseProblem(file=origin, line=0, reason=row.problem))
                    continue
                records.append(_record(row, split=split, origin=origin, columns=columns, metadata=metadata))
                if metadata is not None and row.external_id not in metadata.entries:
                    result.unjoined.append(row.external_id)
            rows_done += len(rows)
            position = {"shard": shard.name, "next_row": rows[-1].index + 1, "rows_done": rows_done}

            def checkpoint(position=position) -> None:
                ImportProgress.objects.update_or_create(
                    source=key, split=split, defaults={"fingerprint": fingerprint, **position}
                )

            import_batch(
                dataset=dataset, records=records, summary=result.summary, checkpoint=checkpoint, pool=pool
            )
            if on_progress:
                on_progress(len(rows))
        start_row = 0
    ImportProgress.objects.filter(source=key, split=split).delete()
    return result


def _exit_with(parent: int) -> None:
    """Pool worker set-up: end this process as soon as `parent` is gone."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def _record(row, *, split: str, origin: str, columns: Columns, metadata: RocoMetadata | None) -> EntryRecord:
    joined = metadata.entries.get(row.external_id) if metadata else None
    if joined is not None:
        # ROCO's files give everything but the picture; the caption is the dataset's own.
        return dataclasses.replace(
            joined,
            caption=row.caption,
            split=split,
            cuis=joined.cuis or row.cuis,
            image_bytes=row.image,
            origin=origin,
        )
    known = _ROW_FIELDS | ({"cuis"} if columns.cuis else set())
    return EntryRecord(
        external_id=row.external_id,
        caption=row.caption,
        split=split,
        cuis=row.cuis,
        licence=NOT_RECORDED,
        image_bytes=row.image,
        origin=origin,
        known_fields=frozenset(known),
    )


def _fingerprint(version: str, columns: Columns, metadata: RocoMetadata | None, limit: int | None) -> str:
    """What shapes the rows an import writes: a resumed run must have the same."""
    facts = {
        "version": version,
        "columns": dataclasses.asdict(columns),
        "metadata": sorted(str(f.resolve()) for f in metadata.folders) if metadata else None,
        "limit": limit,
    }
    return hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()
