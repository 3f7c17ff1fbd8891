"""What every benchmark shares: a database of its own on the embedded server (or DATABASE_URL's)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The real ROCO validation/radiology metadata (8,180 entries, no images): the shared data folder sits
# beside the main checkout, and two levels up from a helper's worktree.
ROCO = next(
    folder / "shared" / "data" / "roco-validation-radiology"
    for folder in (ROOT.parent, ROOT.parent.parent)
    if (folder / "shared" / "data" / "roco-validation-radiology").is_dir()
)


def roco_subset(entries: int) -> Path:
    """The first `entries` entries of ROCO's validation/radiology metadata as a ROCO folder of their
    own (every metadata file cut to them), written once to var/bench/ for the quick benchmarks."""
    folder = ROOT / "var" / "bench" / f"roco-{entries}"
    if (folder / "captions.txt").is_file():
        return folder
    captions = (ROCO / "captions.txt").read_text(encoding="utf-8").splitlines()
    keep = set(sorted(line.split("\t", 1)[0] for line in captions if "\t" in line)[:entries])
    partial = folder.with_name(folder.name + ".partial")
    partial.mkdir(parents=True, exist_ok=True)
    for source in ROCO.iterdir():
        lines = source.read_text(encoding="utf-8").splitlines(keepends=True)
        if source.name == "licences.txt":  # CSV with a header line
            kept = lines[:1] + [line for line in lines[1:] if line.split(",", 1)[0] in keep]
        else:
            kept = [line for line in lines if line.split("\t", 1)[0] in keep]
        (partial / source.name).write_text("".join(kept), encoding="utf-8")
    partial.rename(folder)
    return folder


def bench_database(name: str, *, fresh: bool = False) -> None:
    """Start (or attach to) the database server, create database `name` on it (dropped first when
    `fresh`), and point this process and its children at it through MIRAGE_DB_NAME; the developer's
    own data is never touched."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mirage_site.settings")
    import psycopg

    from mirage_site.bootstrap import prepare

    prepare()
    with psycopg.connect(
        host=os.environ["MIRAGE_DB_SOCKET"],
        port=os.environ["MIRAGE_DB_PORT"],
        user="postgres",
        dbname="postgres",
        autocommit=True,
    ) as admin:
        if fresh:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            admin.execute(f'CREATE DATABASE "{name}"')
    os.environ["MIRAGE_DB_NAME"] = name
