"""import_hf throughput and peak memory on a generated ROCO-radiology-like dataset, and CPU embedding speed.

The dataset (default 20,000 rows in 10 shards, JPEGs of 500–1,500 px with radiograph-like content:
smooth anatomy-like shapes, film grain, ~100–250 KB each) is generated once into var/bench/hf-roco/
and reused. The import runs as `manage.py import_hf` in a subprocess, into its own database
(`mirage_bench_import`, emptied first) and media folder, so the dev data is untouched; its resident
memory (PSS of the command and its decoding workers, summed: shared pages counted once) is
sampled every 0.1 s from /proc.

Then a few batches of the CLIP architectures with random weights are timed on this CPU (images/s):
a tiny one and ViT-L/14 at 448 px (the paper's encoder), through the same preprocessing + encoder path.

    .venv/bin/python bench/import_hf.py [--rows 20000] [--skip-embed]
    .venv/bin/python bench/import_hf.py --quick    # 200 rows; the tiny encoder only
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import subprocess
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from common import bench_database

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "var" / "bench"
DB = "mirage_bench_import"
SHARDS = 10


_GRAIN: np.ndarray | None = None


def radiograph(seed: int) -> bytes:
    """A JPEG that compresses like a real radiograph: smooth large shapes, edges, film grain."""
    from PIL import Image

    global _GRAIN
    if _GRAIN is None:  # one grain field per process, cut at a random place for each image
        _GRAIN = np.random.default_rng(1).normal(0, 3, (1600, 1600)).astype(np.float32)
    rng = np.random.default_rng(seed)
    w, h = (int(v) for v in rng.integers(500, 1501, size=2))
    # Anatomy-like soft ellipses at 1/8 scale, enlarged smoothly: the costly part stays small.
    sw, sh = max(w // 8, 8), max(h // 8, 8)
    y, x = np.mgrid[0:sh, 0:sw].astype(np.float32)
    field = np.full((sh, sw), 40.0, dtype=np.float32)
    for _ in range(6):
        cx, cy = rng.uniform(0, sw), rng.uniform(0, sh)
        rx, ry = rng.uniform(sw / 10, sw / 3), rng.uniform(sh / 10, sh / 3)
        field += rng.uniform(30, 90) * np.exp(-(((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2))
    base = np.asarray(Image.fromarray(field).resize((w, h), Image.Resampling.BICUBIC), dtype=np.float32)
    oy, ox = int(rng.integers(0, 1600 - h + 1)), int(rng.integers(0, 1600 - w + 1))
    picture = Image.fromarray(np.clip(base + _GRAIN[oy : oy + h, ox : ox + w], 0, 255).astype(np.uint8), "L")
    if seed % 5 == 0:
        picture = picture.convert("RGB")  # some figures are colour (annotated, ultrasound)
    out = io.BytesIO()
    picture.save(out, format="JPEG", quality=90)
    return out.getvalue()


def generate(folder: Path, rows: int) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    data = folder / "data"
    data.mkdir(parents=True, exist_ok=True)
    per_shard = -(-rows // SHARDS)
    with ProcessPoolExecutor() as pool:
        for shard in range(SHARDS):
            seeds = range(shard * per_shard, min(rows, (shard + 1) * per_shard))
            images = list(pool.map(radiograph, seeds, chunksize=16))
            table = pa.table(
                {
                    "image": pa.array(
                        [
                            {"bytes": b, "path": f"ROCO_{s:05d}.jpg"}
                            for s, b in zip(seeds, images, strict=True)
                        ],
                        type=pa.struct([("bytes", pa.binary()), ("path", pa.string())]),
                    ),
                    "image_id": [f"ROCO_{s:05d}" for s in seeds],
                    "caption": [
                        f"Radiograph {s}: opacity in the {('left', 'right')[s % 2]} lung." for s in seeds
                    ],
                }
            )
            # `datasets` writes image datasets in row groups of 100 rows
            pq.write_table(table, data / f"train-{shard:05d}-of-{SHARDS:05d}.parquet", row_group_size=100)
            print(f"  shard {shard + 1}/{SHARDS} written", file=sys.stderr)


def tree_pss_mb(pid: int) -> float:
    """Proportional set size of a process and all its descendants, in MB: resident memory with the
    pages that forked workers share with their parent counted once, not once per process."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            rollup = Path(f"/proc/{current}/smaps_rollup").read_text()
            total += int(next(line.split()[1] for line in rollup.splitlines() if line.startswith("Pss:")))
            for task in Path(f"/proc/{current}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, StopIteration):
            continue
    return total / 1024


def run_import(folder: Path, env: dict) -> dict:
    command = [sys.executable, "manage.py", "import_hf", str(folder), "--split", "train", "--no-embed"]
    command += ["--into", "bench"]
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    peak = 0.0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, tree_pss_mb(process.pid))
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, _ = process.communicate()
    stop.set()
    sampler.join()
    if process.returncode:
        raise SystemExit(f"import failed:\n{out.decode()}")
    return {"seconds": time.perf_counter() - started, "peak_mb": peak, "output": out.decode()}


def clip_cpu_speed(*, tiny: bool, batch: int) -> float:
    """Images/s on this CPU through the platform's encoder path (preprocessing + model, fp32 on CPU):
    the tests' tiny open_clip ViT (saved and loaded as a model folder), or ViT-L/14 at 448 px built with
    random weights (the paper's encoder's architecture; its weights are not reachable here)."""
    import tempfile

    import open_clip
    import torch
    from PIL import Image

    pictures = [Image.open(io.BytesIO(radiograph(s))) for s in range(batch + 1)]
    if tiny:
        from apps.ml.encoders import load_encoder
        from tests.ml.tiny_models import build_tiny_open_clip

        encoder = load_encoder(str(build_tiny_open_clip(Path(tempfile.mkdtemp()))))
        transform, encode = encoder.image_transform(), encoder.encode_pixels
    else:
        torch.manual_seed(0)
        net = open_clip.create_model("ViT-L-14", pretrained=None, force_image_size=448).eval()
        transform = open_clip.image_transform(448, is_train=False)

        def encode(pixels):
            with torch.inference_mode():
                return net.encode_image(pixels)

    encode(torch.stack([transform(pictures[0].convert("RGB"))]))  # warm-up
    started = time.perf_counter()
    encode(torch.stack([transform(p.convert("RGB")) for p in pictures[1:]]))
    return batch / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int)
    parser.add_argument("--skip-embed", action="store_true")
    parser.add_argument("--quick", action="store_true", help="200 rows; ViT-L/14 left out")
    args = parser.parse_args()
    args.rows = args.rows or (200 if args.quick else 20_000)

    folder = BENCH / f"hf-roco-{args.rows}"
    if not (folder / "data").is_dir():
        print(f"generating {args.rows} JPEGs into {folder} (once) …", file=sys.stderr)
        generate(folder, args.rows)
    sizes = [p.stat().st_size for p in (folder / "data").glob("*.parquet")]

    bench_database(DB, fresh=True)
    media = BENCH / "media"
    shutil.rmtree(media, ignore_errors=True)
    env = {**os.environ, "MIRAGE_DB_NAME": DB, "MIRAGE_MEDIA_ROOT": str(media)}
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)

    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = run_import(folder, env)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    load = os.getloadavg()[0]

    print(
        f"\nimport_hf on {args.rows} generated rows ({sum(sizes) / 2**20:.0f} MB of parquet), "
        f"{os.cpu_count()} cores, load average {load:.1f} at the end\n"
    )
    print("| what | value |")
    print("|---|---|")
    print(f"| wall time | {result['seconds']:.1f} s |")
    print(f"| images/s (wall) | {args.rows / result['seconds']:.0f} |")
    print(f"| CPU time, command + workers | {cpu:.1f} s ({cpu / args.rows * 1000:.1f} ms per image) |")
    print(
        f"| images/s if the CPUs were free (cores / CPU per image) | {os.cpu_count() * args.rows / cpu:.0f} |"
    )
    print(f"| peak memory (PSS), command + workers | {result['peak_mb']:.0f} MB |")
    counts = [line for line in result["output"].splitlines() if line.startswith("imported")]
    print(f"| summary | {counts[0] if counts else result['output'][-300:]} |")

    if args.skip_embed:
        return
    print("\nCLIP image encoding on this CPU (random weights, fp32, preprocessing included):\n")
    print("| architecture | images/s | s/image |")
    print("|---|---|---|")
    architectures = [
        ("tiny open_clip ViT (the tests' model, 32 px)", True, 32),
        ("ViT-L/14 at 448 px (the paper's encoder's architecture)", False, 2),
    ]
    for label, tiny, batch in architectures[:1] if args.quick else architectures:
        speed = clip_cpu_speed(tiny=tiny, batch=batch)
        print(f"| {label} | {speed:.2f} | {1 / speed:.2f} |")


if __name__ == "__main__":
    main()
