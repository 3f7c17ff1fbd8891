"""Parquet shards in the layout of the hub's ROCO-radiology, and a huggingface_hub cache holding them.

The image column is the `datasets` Image feature as it is stored: a struct `{bytes: binary, path:
string}`, with the schema metadata `datasets` writes (`huggingface` key), so pyarrow sees exactly what
it sees in a downloaded shard.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from PIL import Image as PILImage

FEATURES = {
    "image": {"_type": "Image"},
    "image_id": {"dtype": "string", "_type": "Value"},
    "caption": {"dtype": "string", "_type": "Value"},
}


def picture_bytes(seed: int, *, fmt: str = "JPEG", size: tuple[int, int] = (64, 48)) -> bytes:
    """A small real picture with some structure (noise plus a gradient), different for each seed."""
    rng = np.random.default_rng(seed)
    w, h = size
    gradient = np.linspace(0, 200, w, dtype=np.float32)[None, :].repeat(h, axis=0)
    pixels = np.clip(gradient + rng.normal(0, 25, (h, w)), 0, 255).astype(np.uint8)
    mode = "L" if seed % 2 else "RGB"
    picture = PILImage.fromarray(pixels, "L").convert(mode)
    out = io.BytesIO()
    picture.save(out, format=fmt, **({"quality": 90} if fmt == "JPEG" else {}))
    return out.getvalue()


def write_shard(
    path: Path, rows: list[dict], *, features: dict | None = None, row_group_rows: int = 100
) -> Path:
    """rows: {"image": bytes | None, "image_id": str, "caption": str, …}; written like `datasets` does."""
    images = pa.array(
        [{"bytes": r["image"], "path": f"{r['image_id']}.jpg"} if "image" in r else None for r in rows],
        type=pa.struct([("bytes", pa.binary()), ("path", pa.string())]),
    )
    columns = {"image": images} if any("image" in r for r in rows) else {}
    for name in rows[0]:
        if name != "image":
            columns[name] = pa.array([r[name] for r in rows])
    table = pa.table(columns)
    used = {name: spec for name, spec in (features or FEATURES).items() if name in table.column_names}
    table = table.replace_schema_metadata({"huggingface": json.dumps({"info": {"features": used}})})
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, row_group_size=row_group_rows)
    return path


def write_dataset(folder: Path, split: str, shards: list[list[dict]]) -> list[Path]:
    """`folder/data/{split}-NNNNN-of-NNNNN.parquet`, one file per list of rows."""
    count = len(shards)
    return [
        write_shard(folder / "data" / f"{split}-{i:05d}-of-{count:05d}.parquet", rows)
        for i, rows in enumerate(shards)
    ]


def place_in_hub_cache(cache: Path, repo_id: str, folder: Path, *, commit: str = "a" * 40) -> Path:
    """Lay the files of `folder` out as huggingface_hub's cache holds a downloaded dataset repository:
    `datasets--org--name/blobs/<sha256>`, `snapshots/<commit>/<path>` linking to the blob, and
    `refs/main` naming the commit. Returns the snapshot folder."""
    repo = cache / f"datasets--{repo_id.replace('/', '--')}"
    (repo / "refs").mkdir(parents=True, exist_ok=True)
    (repo / "refs" / "main").write_text(commit)
    snapshot = repo / "snapshots" / commit
    for file in sorted(p for p in folder.rglob("*") if p.is_file()):
        data = file.read_bytes()
        blob = repo / "blobs" / hashlib.sha256(data).hexdigest()  # LFS files are stored under their sha256
        blob.parent.mkdir(parents=True, exist_ok=True)
        blob.write_bytes(data)
        link = snapshot / file.relative_to(folder)
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(os.path.relpath(blob, link.parent))
    return snapshot
