"""ROCO metadata import speed: `manage.py import_roco <validation/radiology> --no-embed` as a user
runs it (a fresh process, Django start-up included) into a fresh database of its own, then the
embedding bulk load (the COPY path of apps/corpus/embeddings.py) of random unit vectors.

    .venv/bin/python bench/import_roco.py [--rounds 3]
    .venv/bin/python bench/import_roco.py --quick     # 2,000 entries, 1 round
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

from common import ROCO, ROOT, bench_database, roco_subset


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="the first 2,000 entries, 1 round")
    args = parser.parse_args()
    roco = roco_subset(2000) if args.quick else ROCO
    rounds = 1 if args.quick else args.rounds
    times = []
    for _ in range(rounds):
        bench_database("mirage_import_bench", fresh=True)
        for step in (["migrate", "-v", "0"], ["createcachetable"]):
            subprocess.run([sys.executable, "manage.py", *step], cwd=ROOT, check=True)
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "manage.py", "import_roco", str(roco), "--no-embed"],
            cwd=ROOT, check=True, stdout=subprocess.DEVNULL, env={**os.environ, "TQDM_DISABLE": "1"},
        )  # fmt: skip
        times.append(time.perf_counter() - started)
    entries = sum(1 for line in (roco / "captions.txt").open() if "\t" in line)
    wall = statistics.median(times)

    import django

    django.setup()
    import numpy as np

    from apps.corpus.embeddings import _copy_vectors
    from apps.corpus.models import EmbeddingSpace, Image

    space = EmbeddingSpace.objects.create(name="bench", model="random", target="caption", dim=768)
    ids = list(Image.objects.values_list("pk", flat=True))
    vectors = np.random.default_rng(0).standard_normal((len(ids), 768)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    started = time.perf_counter()
    _copy_vectors(space, ids, vectors)
    copy_s = time.perf_counter() - started

    print("| what | value |")
    print("| --- | --- |")
    print(f"| import_roco --no-embed, {entries:,} entries, wall incl. start-up (median of {rounds}) "
          f"| {wall:.1f} s ({entries / wall:,.0f} entries/s) |")  # fmt: skip
    print(f"| embedding COPY, {len(ids):,} × 768-d vectors (no index) | {copy_s:.2f} s "
          f"({len(ids) / copy_s:,.0f} vectors/s) |")  # fmt: skip
    print(f"\nload average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
