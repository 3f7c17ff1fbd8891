"""Small corpora on disk in each importer's real layout, with real JPEG/PNG images, and helpers to run
management commands in another process against the test database (as an operator runs them)."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image as PILImage

ROOT = Path(__file__).resolve().parents[2]


def picture(seed: int, size: int = 64) -> PILImage.Image:
    rng = np.random.default_rng(seed)
    return PILImage.fromarray(rng.integers(0, 256, size=(size, size, 3), dtype=np.uint8))


def write_roco(root: Path, count: int) -> Path:
    """`root/data/test/radiology/` in ROCO's layout, `count` entries, each with its JPEG."""
    folder = root / "data" / "test" / "radiology"
    (folder / "images").mkdir(parents=True)
    ids = [f"ROCO_{n:05d}" for n in range(1, count + 1)]
    lines = {
        "captions": [f"{i}\t Chest CT number {n}, axial slice." for n, i in enumerate(ids)],
        "keywords": [f"{i}\t\tchest\tct\tslice{n}" for n, i in enumerate(ids)],
        "cuis": [f"{i}\t\tC0040405" for i in ids],
        "semtypes": [f"{i}\t\tT060\tDiagnostic Procedure" for i in ids],
        "licences": ["ROCO_ID,PMC_ID,CC"] + [f"{i},PMC{n}_f.jpg,CC BY" for n, i in enumerate(ids)],
    }
    for name, content in lines.items():
        (folder / f"{name}.txt").write_text("\n".join(content) + "\n", encoding="utf-8")
    for n, i in enumerate(ids):
        picture(n).save(folder / "images" / f"{i}.jpg", quality=90)
    return root


def write_rocov2(root: Path, count: int) -> Path:
    """ROCOv2: `test_captions.csv`, `test_concepts.csv` and `test/ID.jpg`."""
    (root / "test").mkdir(parents=True)
    ids = [f"ROCOv2_2023_test_{n:06d}" for n in range(1, count + 1)]
    with (root / "test_captions.csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["ID", "Caption"])
        writer.writerows([i, f"Head MRI, case {n}, T2 weighted."] for n, i in enumerate(ids))
    with (root / "test_concepts.csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["ID", "CUIs"])
        writer.writerows([i, "C0024485;C0018670"] for i in ids)
    for n, i in enumerate(ids):
        picture(10_000 + n).save(root / "test" / f"{i}.jpg", quality=90)
    return root


def write_folder(root: Path, count: int) -> Path:
    """A folder of PNGs with a JSON-lines captions file (`root/captions.jsonl`)."""
    (root / "pics").mkdir(parents=True)
    rows = []
    for n in range(count):
        name = f"pics/case-{n:04d}.png"
        picture(20_000 + n).save(root / name)
        rows.append({"file": name, "caption": f"Ultrasound of the liver, case {n}.", "licence": "CC BY"})
    (root / "captions.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return root


# name: (write the corpus, the command line that imports it)
IMPORTERS = {
    "roco": (write_roco, lambda root: ["import_roco", str(root), "--no-embed"]),
    "rocov2": (write_rocov2, lambda root: ["import_rocov2", str(root), "--no-embed"]),
    "folder": (
        write_folder,
        lambda root: ["import_folder", str(root), "--captions", str(root / "captions.jsonl"), "--no-embed"],
    ),
}


def command_env(*, database: str, media_root: Path, **extra: str) -> dict[str, str]:
    return os.environ | {
        "DJANGO_SETTINGS_MODULE": "mirage_site.settings",
        "MIRAGE_DB_NAME": database,
        "MIRAGE_MEDIA_ROOT": str(media_root),
        "HF_HUB_OFFLINE": "1",
        "OMP_NUM_THREADS": "1",
        **extra,
    }


def manage(args: list[str], env: dict[str, str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, **kwargs
    )


def manage_popen(args: list[str], env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def file_hashes(root: Path) -> dict[str, str]:
    """Every file under `root` (relative POSIX name → SHA-256)."""
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }
