"""Search latency on the real ROCO validation/radiology metadata (8,180 captions), per channel.

Runs in its own database (`mirage_bench`) on the embedded server, so the dev data is untouched.
Prints a table of median / p90 milliseconds over repeated queries:
  - query encoding, first time vs repeated (the per-process query cache),
  - the caption-space nearest-neighbour query through the HNSW index vs an exact scan,
  - full-text search, and the whole fused `text_search`.

    .venv/bin/python bench/search_latency.py [--rounds 5]
    .venv/bin/python bench/search_latency.py --quick     # 300 entries, 2 rounds
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import time

from common import ROCO, bench_database, roco_subset

QUERIES = [
    "chest x-ray with pneumothorax",
    "axial ct of the abdomen showing a liver mass",
    "mri of the brain with a ring enhancing lesion",
    "ultrasound of the thyroid nodule",
    "coronary angiography stenosis",
    "fracture of the femur on radiograph",
    "pet ct showing metastases",
    "pulmonary embolism ct angiography",
    "kidney stone on ct",
    "sagittal t2 mri of the lumbar spine",
]


def ms(samples: list[float]) -> tuple[float, float]:
    samples = sorted(samples)
    return statistics.median(samples) * 1000, samples[int(0.9 * (len(samples) - 1))] * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="the first 300 entries, 2 rounds")
    args = parser.parse_args()
    roco = roco_subset(300) if args.quick else ROCO
    rounds = 2 if args.quick else args.rounds

    # A fresh database for a quick run: the full run's 8,180 entries would be kept otherwise.
    bench_database("mirage_bench_quick" if args.quick else "mirage_bench", fresh=args.quick)

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from apps.corpus.embeddings import vector_literal
    from apps.corpus.models import EmbeddingSpace
    from apps.corpus.spaces import CAPTION, configured_spaces
    from apps.ml.encoders import load_encoder
    from apps.search.channels import full_text_images, nearest_images
    from apps.search.filters import Filters, searchable_images
    from apps.search.selectors import text_search

    quiet = {"stdout": io.StringIO(), "stderr": io.StringIO()}
    call_command("migrate", verbosity=0, **quiet)
    call_command("createcachetable", verbosity=0, **quiet)
    t0 = time.perf_counter()
    call_command("import_roco", str(roco), **quiet)
    t_import = time.perf_counter() - t0
    t0 = time.perf_counter()
    call_command("embed", "--space", "caption", **quiet)
    t_embed = time.perf_counter() - t0
    space = EmbeddingSpace.objects.get(name="caption")
    encoder = load_encoder(configured_spaces()[CAPTION].model)
    n = space.embeddings.count()
    everything = searchable_images(filters=Filters(), require_file=False)

    rows: list[tuple[str, float, float]] = []
    timings: dict[str, list[float]] = {
        k: [] for k in ["encode", "encode_cached", "hnsw", "exact", "fts", "fused"]
    }
    for round_ in range(rounds):
        for query in QUERIES:
            text = f"{query} #{round_}"
            t = time.perf_counter()
            encoder.encode_query(text)
            timings["encode"].append(time.perf_counter() - t)
            t = time.perf_counter()
            vector = encoder.encode_query(text)
            timings["encode_cached"].append(time.perf_counter() - t)
            t = time.perf_counter()
            nearest_images(space=space, vector=vector, limit=100, among=everything)
            timings["hnsw"].append(time.perf_counter() - t)
            with connection.cursor() as cursor:
                literal = vector_literal(vector)
                t = time.perf_counter()
                cursor.execute(
                    "SELECT image_id FROM (SELECT image_id, vector::vector(384) <=> %s::vector(384) AS d "
                    "FROM corpus_embedding WHERE space_id = %s OFFSET 0) s ORDER BY d LIMIT 100",
                    [literal, space.pk],
                )
                cursor.fetchall()
                timings["exact"].append(time.perf_counter() - t)
            t = time.perf_counter()
            full_text_images(query=text, limit=100, among=everything)
            timings["fts"].append(time.perf_counter() - t)
            t = time.perf_counter()
            text_search(query=query, k=20, require_file=False)
            timings["fused"].append(time.perf_counter() - t)

    labels = {
        "encode": "query encoding, first time (MiniLM, CPU)",
        "encode_cached": "query encoding, repeated (cache)",
        "hnsw": "caption space top-100, HNSW index",
        "exact": "caption space top-100, exact scan",
        "fts": "full text top-100 (ts_rank, OR-ed words)",
        "fused": "text_search k=20 (cached query, fused)",
    }
    for key, label in labels.items():
        median, p90 = ms(timings[key])
        rows.append((label, median, p90))

    print(f"\nROCO validation/radiology: {n} caption vectors; import {t_import:.1f} s, embed {t_embed:.1f} s")
    print(f"{len(QUERIES)} queries x {rounds} rounds, {os.cpu_count()} CPU cores\n")
    print(f"| {'step':<44} | median ms | p90 ms |")
    print(f"|{'-' * 46}|-----------|--------|")
    for label, median, p90 in rows:
        print(f"| {label:<44} | {median:9.2f} | {p90:6.2f} |")
    hnsw, exact = statistics.median(timings["hnsw"]), statistics.median(timings["exact"])
    print(f"\nexact scan / HNSW median ratio: {exact / hnsw:.1f}x")


if __name__ == "__main__":
    main()
