"""Hugging Face image–caption datasets: parquet shards `data/{split}-NNNNN-of-NNNNN.parquet`.

The layout `datasets` writes and the hub serves (`mdwiratathya/ROCO-radiology`: columns `image`, the
Image feature stored as a struct `{bytes, path}`, `image_id` and `caption`; `eltorio/ROCOv2-radiology`
adds `cui`, a list of UMLS CUIs). Shards come from a local folder or from the hub through
`huggingface_hub` (its cache, resumed downloads, progress bars, HF_TOKEN and HF_ENDPOINT), one at a
time; each is read with pyarrow in row batches, so a split is never in memory at once. No Django here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

SHARD = re.compile(r"(?P<split>[\w.]+?)-(?P<index>\d{5})-of-(?P<count>\d{5})\.parquet")
HUB_ID = re.compile(r"^[\w.-]+/[\w.-]+$")
UNREACHABLE = ("ConnectError", "ConnectTimeout", "ConnectionError", "ReadTimeout", "OfflineModeIsEnabled")


class SourceError(ValueError):
    """A dataset that cannot be read as this layout; the message says what was found instead."""


@dataclass(frozen=True)
class Columns:
    """Which parquet columns hold what; the defaults fit ROCO-radiology."""

    image: str = "image"
    id: str = "image_id"
    caption: str = "caption"
    cuis: str | None = None  # ROCOv2-radiology: "cui"

    def names(self) -> list[str]:
        return [name for name in (self.image, self.id, self.caption, self.cuis) if name]


@dataclass(frozen=True)
class Shard:
    name: str  # the file's name, e.g. "validation-00000-of-00001.parquet"
    fetch: Callable[[], Path] = field(compare=False)  # the local file, downloaded first when from the hub


@dataclass
class Row:
    index: int  # 0-based row number within its shard
    external_id: str
    caption: str
    image: bytes | None
    cuis: list[str]
    problem: str = ""  # why the row cannot be imported; "" when it can


def folder_shards(folder: Path, split: str) -> list[Shard]:
    """The split's shards in a local copy of the layout (`folder/data/…` or the shards in `folder`)."""
    base = folder / "data" if (folder / "data").is_dir() else folder
    names = sorted(p.name for p in base.glob(f"{split}-*-of-*.parquet") if _is_shard(p.name, split))
    if not names:
        found = sorted(p.name for p in base.glob("*.parquet"))[:10]
        raise SourceError(
            f"no {split} shards in {base}: expected {split}-NNNNN-of-NNNNN.parquet"
            + (f"; found {', '.join(found)}" if found else "; no parquet files there")
        )
    return [Shard(name, fetch=lambda path=base / name: path) for name in names]


def hub_shards(repo_id: str, split: str, *, revision: str | None = None) -> tuple[str, list[Shard]]:
    """(commit, the split's shards) of a hub dataset; each shard is downloaded when fetched.

    The list comes from the hub, or from huggingface_hub's cache when the hub cannot be reached or
    HF_HUB_OFFLINE is set. Downloads are pinned to that commit, so all shards are of one version.
    """
    from huggingface_hub import HfApi, constants

    listing_error: Exception | None = None
    if not constants.HF_HUB_OFFLINE:
        try:
            api = HfApi()  # reads HF_TOKEN and HF_ENDPOINT
            commit = api.dataset_info(repo_id, revision=revision).sha
            files = api.list_repo_files(repo_id, repo_type="dataset", revision=commit)
        except Exception as exc:
            if not any(type(link).__name__ in UNREACHABLE for link in _chain(exc)):
                raise SourceError(f"{repo_id}: the hub answered: {exc}") from exc
            listing_error = exc
        else:
            return commit, _hub_shards(repo_id, commit, files, split)
    commit, files = _cached_files(repo_id, revision or "main")
    if commit is None:
        why = f"the hub cannot be reached ({listing_error})" if listing_error else "HF_HUB_OFFLINE is set"
        raise SourceError(f"{repo_id} is not in the huggingface_hub cache and {why}.")
    shards = _hub_shards(repo_id, commit, files, split)
    return commit, shards


def _hub_shards(repo_id: str, commit: str, files: list[str], split: str) -> list[Shard]:
    names = sorted(f for f in files if f.startswith("data/") and _is_shard(f.removeprefix("data/"), split))
    if not names:
        raise SourceError(
            f"{repo_id} has no data/{split}-NNNNN-of-NNNNN.parquet shards"
            f" (its parquet files: {', '.join(f for f in files if f.endswith('.parquet'))[:500] or 'none'})"
        )
    return [Shard(name.removeprefix("data/"), fetch=_downloader(repo_id, name, commit)) for name in names]


def _downloader(repo_id: str, filename: str, commit: str) -> Callable[[], Path]:
    def fetch() -> Path:
        from huggingface_hub import hf_hub_download

        # The cache keeps the file; an interrupted download resumes; tqdm shows its progress.
        return Path(hf_hub_download(repo_id, filename, repo_type="dataset", revision=commit))

    return fetch


def _cached_files(repo_id: str, revision: str) -> tuple[str | None, list[str]]:
    """(commit, files) of the cached snapshot a revision (branch, tag or commit) points at."""
    from huggingface_hub import constants, scan_cache_dir

    if not Path(constants.HF_HUB_CACHE).is_dir():
        return None, []
    # The cache hf_hub_download uses (scan_cache_dir's own default is fixed when it is imported).
    for repo in scan_cache_dir(constants.HF_HUB_CACHE).repos:
        if repo.repo_id != repo_id or repo.repo_type != "dataset":
            continue
        for cached in repo.revisions:
            if revision in cached.refs or cached.commit_hash == revision:
                files = [str(f.file_path.relative_to(cached.snapshot_path)) for f in cached.files]
                return cached.commit_hash, files
    return None, []


def _is_shard(name: str, split: str) -> bool:
    match = SHARD.fullmatch(name)
    return bool(match and match["split"] == split)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    link: BaseException | None = exc
    while link is not None and id(link) not in seen:
        seen.add(id(link))
        yield link
        link = link.__cause__ or link.__context__


def shard_rows(path: Path) -> int:
    import pyarrow.parquet as pq

    return pq.ParquetFile(path).metadata.num_rows


def read_rows(path: Path, columns: Columns, *, start: int = 0, batch_rows: int = 200) -> Iterator[list[Row]]:
    """The shard's rows from row `start` on, in batches of at most `batch_rows`.

    Row groups before `start` are not read at all. SourceError when a column is missing.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(path)
    schema = parquet.schema_arrow
    missing = [name for name in columns.names() if name not in schema.names]
    if missing:
        raise SourceError(
            f"{path.name} has no column {', '.join(repr(m) for m in missing)}; its columns are "
            f"{', '.join(repr(n) for n in schema.names)} (name others with --image-column, --id-column, "
            "--caption-column, --cui-column)"
        )
    image_type = schema.field(columns.image).type
    if not (pa.types.is_struct(image_type) and image_type.get_field_index("bytes") >= 0) and not (
        pa.types.is_binary(image_type) or pa.types.is_large_binary(image_type)
    ):
        raise SourceError(
            f"{path.name}: column {columns.image!r} is {image_type}, not an image "
            "(the datasets Image struct {bytes, path}, or binary)"
        )
    first_group, offset = 0, 0
    while first_group < parquet.num_row_groups:
        rows = parquet.metadata.row_group(first_group).num_rows
        if offset + rows > start:
            break
        offset += rows
        first_group += 1
    groups = list(range(first_group, parquet.num_row_groups))
    if not groups:
        return
    skip = start - offset
    index = offset
    for batch in parquet.iter_batches(batch_size=batch_rows, row_groups=groups, columns=columns.names()):
        if skip >= batch.num_rows:
            skip -= batch.num_rows
            index += batch.num_rows
            continue
        if skip:
            batch, index, skip = batch.slice(skip), index + skip, 0
        yield _rows(batch, columns, index)
        index += batch.num_rows


def _rows(batch, columns: Columns, first: int) -> list[Row]:
    images = batch.column(columns.image)
    if hasattr(images, "field"):  # the datasets Image struct
        images = images.field("bytes")
    ids = batch.column(columns.id).to_pylist()
    captions = batch.column(columns.caption).to_pylist()
    cuis = batch.column(columns.cuis).to_pylist() if columns.cuis else [None] * len(ids)
    out = []
    for offset, (data, external_id, caption, concepts) in enumerate(
        zip(images.to_pylist(), ids, captions, cuis, strict=True)
    ):
        external_id = str(external_id or "").strip()
        caption = str(caption or "").strip()
        problem = ""
        if not external_id:
            problem = f"no id in column {columns.id!r}"
        elif not caption:
            problem = f"{external_id}: empty caption"
        elif not data:
            problem = f"{external_id}: no image bytes in column {columns.image!r}"
        if isinstance(concepts, str):  # a ";"-separated string rather than a list
            concepts = concepts.split(";")
        out.append(
            Row(
                index=first + offset,
                external_id=external_id,
                caption=caption,
                image=data or None,
                cuis=[str(c).strip() for c in concepts or [] if str(c).strip()],
                problem=problem,
            )
        )
    return out
