"""Where to put the caption space's similarity floor: the true match's similarity vs non-matches.

On the real ROCO validation/radiology metadata (captions and keywords, no images): each entry's
keywords are the query; its own caption is the true match, every other caption a non-match. Prints
percentiles of both distributions, and for candidate floors the share of true matches kept and the
share of queries left with at least one non-match above the floor. Plus nonsense queries.

    .venv/bin/python bench/similarity_floor.py [--limit N]
    .venv/bin/python bench/similarity_floor.py --quick     # the first 200 entries
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from apps.ml.encoders import load_encoder  # noqa: E402
from apps.ml.specs import default_caption_model  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared/data/roco-validation-radiology"
NONSENSE = ["xyzzyqwerty", "asdfgh jkl", "banana bread recipe", "football world cup final", "tax return form"]


def read(path: Path) -> dict[str, str]:
    out = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        key, _, value = line.partition("\t")
        out[key.strip()] = " ".join(value.replace("\t", " ").split())
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="the first 200 entries (--limit 200)")
    args = parser.parse_args()
    if args.quick:
        args.limit = args.limit or 200
    data = DATA if DATA.exists() else Path("/work/shared/data/roco-validation-radiology")
    captions, keywords = read(data / "captions.txt"), read(data / "keywords.txt")
    ids = [i for i in captions if captions[i] and keywords.get(i)]
    if args.limit:
        ids = ids[: args.limit]
    encoder = load_encoder(default_caption_model())
    c = encoder.encode_texts([captions[i] for i in ids])
    q = encoder.encode_texts([keywords[i] for i in ids])
    sims = q @ c.T  # unit vectors: cosine
    true = np.diag(sims).copy()
    mask = ~np.eye(len(ids), dtype=bool)
    other = sims[mask]
    rank1 = (sims >= true[:, None]).sum(1) == 1
    print(f"{len(ids)} queries (keywords → own caption), caption model {encoder!r}")
    print("| percentile | true match | non-match | best non-match per query |")
    print("|---|---|---|---|")
    best_other = np.where(mask, sims, -1).max(1)
    for p in (1, 5, 10, 25, 50, 75, 90, 95, 99):
        print(
            f"| {p} | {np.percentile(true, p):.3f} | {np.percentile(other, p):.3f} | "
            f"{np.percentile(best_other, p):.3f} |"
        )
    print(f"true match ranked first: {rank1.mean():.3f}")
    print("| floor | true matches kept | non-matches kept | top-1 true match kept |")
    print("|---|---|---|---|")
    for floor in (0.15, 0.2, 0.25, 0.3, 0.35, 0.4):
        print(
            f"| {floor:.2f} | {(true >= floor).mean():.3f} | {(other >= floor).mean():.4f} | "
            f"{(true[rank1] >= floor).mean():.3f} |"
        )
    n = encoder.encode_texts(NONSENSE) @ c.T
    print("| nonsense query | best caption similarity |")
    print("|---|---|")
    for text, row in zip(NONSENSE, n, strict=True):
        print(f"| {text} | {row.max():.3f} |")


if __name__ == "__main__":
    main()
