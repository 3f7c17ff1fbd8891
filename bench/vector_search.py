"""Vector search at a million images: HNSW configurations against exact search, side by side.

Runs in its own database (`mirage_bench_vectors`) on the embedded server, in a table shaped like the
platform's `corpus_embedding` (an undimensioned `vector` column, a `space_id`, partial expression
indexes per space) beside a small `image` table for the filter tests. Two data sets:

- clustered synthetic vectors (thousands of clusters on the unit sphere, each cluster a low-rank
  spread plus isotropic noise, sizes log-normal), generated with numpy and COPY-loaded in binary;
- the real MiniLM caption embeddings of the ROCO validation/radiology metadata (384-d), for a recall
  check at a real distribution (encoded once, cached in var/bench/).

For held-out queries it measures recall@10 against exact top-10 (numpy dot products of the unit
vectors) and per-query latency (p50 / p95 ms, client side, one query at a time) of: a numpy scan, exact
search in PostgreSQL (sequential scan), and each candidate index configuration over a sweep of
`hnsw.ef_search` and exact re-rank candidate counts; index build times and table / index sizes;
filtered search keeping 5% of the images through pgvector 0.8 iterative index scans. Both data sets'
difficulty is printed (relative contrast and local intrinsic dimensionality of the queries' neighbours).

    .venv/bin/python bench/vector_search.py            # 1,000,000 x 768, the platform's configuration
    .venv/bin/python bench/vector_search.py --quick    # 5,000 x 768 and 2,000 captions, ~10 s
    .venv/bin/python bench/vector_search.py --n 100000 --configs all

`platform` is the configuration the platform runs (settings MIRAGE_HNSW_M, MIRAGE_HNSW_EF_CONSTRUCTION,
MIRAGE_HNSW_EF_SEARCH; apps/corpus/embeddings.py builds the same index). The tables go to stdout, and to
the file --out names (`make bench` keeps them in bench/results/).
The database is dropped at the end unless --keep is given.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import struct
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

# One BLAS thread: on this shared 2-core machine, BLAS threads spin against the other work and make
# the generator's many small products ten times slower; the numpy scan is memory-bound either way.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CAPTIONS = ROOT.parent / "shared" / "data" / "roco-validation-radiology" / "captions.txt"
DB_NAME = "mirage_bench_vectors"
SYNTHETIC, CAPTION = 1, 2  # space ids
K = 10
GT_DEPTH = 100  # neighbours kept per query for the difficulty measures
REAL_HELD_OUT = 256
FILTER_SHARE = 0.05
SERVER_PROBE = 32
FILTER_QUERIES = 128
CHUNK = 50_000
COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
COPY_TRAILER = struct.pack(">h", -1)


# --- configurations -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Config:
    """An index on the space's vectors and how a query reads it.

    kind: `vector` (full precision), `halfvec` (16-bit floats) or `bit` (binary quantization, Hamming
    distance). `sweep` holds (ef_search, re-rank candidates) points; 0 candidates means the index
    order is the answer, N > 0 means the index's top N are re-ranked by exact cosine on the stored
    full vectors. `filter_points` are the points measured with filters.
    """

    name: str
    kind: str
    m: int
    ef_construction: int
    sweep: tuple[tuple[int, int], ...]
    filter_points: tuple[tuple[int, int], ...]

    def opclass(self) -> str:
        return {"vector": "vector_cosine_ops", "halfvec": "halfvec_cosine_ops", "bit": "bit_hamming_ops"}[
            self.kind
        ]

    def key(self, dim: int) -> str:
        """The indexed expression; a query's ORDER BY repeats it so the planner picks the index."""
        if self.kind == "bit":
            return f"(binary_quantize(vector)::bit({dim}))"
        return f"(vector::{self.kind}({dim}))"

    def distance(self, dim: int, param: str) -> str:
        if self.kind == "bit":
            return f"{self.key(dim)} <~> binary_quantize({param}::vector({dim}))"
        return f"{self.key(dim)} <=> {param}::{self.kind}({dim})"

    def index_name(self, space: int) -> str:
        return f"bench_hnsw_{space}"

    def ddl(self, *, space: int, dim: int) -> str:
        return (
            f"CREATE INDEX {self.index_name(space)} ON corpus_embedding "
            f"USING hnsw ({self.key(dim)} {self.opclass()}) "
            f"WITH (m = {self.m}, ef_construction = {self.ef_construction}) WHERE space_id = {space}"
        )


def _config(name: str, kind: str, m: int, efc: int, sweep, filters) -> Config:
    return Config(name, kind, m, efc, tuple(sweep), tuple(filters))


# Re-ranking the index's own candidates exactly changes little for vector and halfvec (their order is
# already exact, or within 16-bit rounding); one point shows it. Binary quantization needs it.
SWEEP = [(40, 0), (100, 0), (150, 0), (200, 0), (400, 0), (200, 200)]
FILTERS = [(200, 0)]
CONFIGS = {
    c.name: c
    for c in [
        # Earlier and alternative configurations; the platform's own is added from its settings.
        _config("vector-m16-efc64", "vector", 16, 64, SWEEP, FILTERS),
        _config("halfvec-m16-efc64", "halfvec", 16, 64, SWEEP, FILTERS),
        _config("halfvec-m24-efc128", "halfvec", 24, 128, SWEEP, FILTERS),
        _config("bit-m16-efc64", "bit", 16, 64, [(200, 200), (1000, 1000)], [(1000, 1000)]),
    ]
}
PLATFORM = "platform"  # added by main() from the settings
FULL_RUN = [PLATFORM]
# The platform's configuration at a few ef_search points and its own (`--configs` adds others).
QUICK_RUN = [PLATFORM]
QUICK_SWEEP = [(40, 0), (100, 0), (200, 0)]


def platform_point() -> tuple[int, int]:
    """The platform's own ef_search, without re-rank (MIRAGE_HNSW_EF_SEARCH): every sweep measures it."""
    from django.conf import settings

    return (settings.MIRAGE_HNSW_EF_SEARCH, 0)


def platform_config() -> Config:
    """What the platform builds and searches with (mirage_site/settings.py)."""
    from django.conf import settings

    m, efc, own = settings.MIRAGE_HNSW_M, settings.MIRAGE_HNSW_EF_CONSTRUCTION, platform_point()
    sweep, filters = sorted({*SWEEP, own}), sorted({*FILTERS, own})
    return _config(f"{PLATFORM} (halfvec-m{m}-efc{efc})", "halfvec", m, efc, sweep, filters)


# --- data -----------------------------------------------------------------------------------------


def unit(x: np.ndarray) -> np.ndarray:
    x /= np.sqrt(np.einsum("ij,ij->i", x, x))[:, None]
    return x


class ClusteredSphere:
    """Clusters on the unit sphere, shaped like embedding data rather than i.i.d. Gaussian noise.

    Each cluster has a centre, a log-normal share of the points, and its own low-rank spread (a few
    random directions with decaying variance: images of one kind vary along a few factors), plus
    isotropic noise; points are normalised. The defaults make the data as hard as the real MiniLM
    caption vectors by the two measures `difficulty` prints (at 8k points: relative contrast 1.94 vs
    1.90, local intrinsic dimensionality 10.5 vs 10.4, mean cosine 0.20 vs 0.23); with less noise
    neighbours are easier to find than in real data.
    """

    def __init__(
        self,
        *,
        dim: int,
        clusters: int,
        seed: int,
        rank: int = 16,
        spread: float = 0.9,
        noise: float = 0.85,
        bias: float = 0.9,
    ) -> None:
        rng = np.random.default_rng(seed)
        self.dim, self.rank = dim, rank
        # Real embeddings fill a cone, not the whole sphere (MiniLM captions: mean cosine 0.23):
        # every centre leans towards one common direction.
        common = unit(rng.standard_normal((1, dim), dtype=np.float32))
        centres = unit(rng.standard_normal((clusters, dim), dtype=np.float32))
        self.centres = unit(centres + np.float32(bias) * common)
        weights = rng.lognormal(0.0, 1.0, clusters)
        self.share = weights / weights.sum()
        self.bases = rng.standard_normal((clusters, rank, dim), dtype=np.float32) / np.float32(np.sqrt(dim))
        self.spread = (rng.uniform(0.6, 1.4, clusters) * spread).astype(np.float32)
        self.decay = (np.arange(1, rank + 1, dtype=np.float32) ** -0.5) / np.float32(
            np.sqrt(np.sum(1.0 / np.arange(1, rank + 1)))
        )
        self.noise = np.float32(noise)

    def sample(
        self, out: np.ndarray, rng: np.random.Generator, scratch: np.ndarray | None = None
    ) -> np.ndarray:
        """Fill `out` (n x dim, float32) with n points in random order; returns their clusters.

        Buffers are passed in and reused: on this machine first-touching fresh memory costs more
        than generating the numbers.
        """
        n = len(out)
        scratch = np.empty_like(out) if scratch is None else scratch[:n]
        cluster = np.sort(rng.choice(len(self.share), size=n, p=self.share))
        latent = rng.standard_normal((n, self.rank), dtype=np.float32)
        latent *= self.decay
        latent *= self.spread[cluster][:, None]
        # Isotropic noise, uniform per coordinate with the variance of the Gaussian (4x cheaper to draw;
        # in 768 dimensions only its norm and direction matter, and both behave the same).
        rng.random(out=scratch, dtype=np.float32)
        scratch -= np.float32(0.5)
        scratch *= self.noise * np.float32(np.sqrt(12.0 / self.dim))
        present, starts = np.unique(cluster, return_index=True)
        ends = np.append(starts[1:], n)
        for c, a, b in zip(present.tolist(), starts.tolist(), ends.tolist(), strict=True):
            scratch[a:b] += self.centres[c]
            scratch[a:b] += latent[a:b] @ self.bases[c]
        order = rng.permutation(n)
        out[order] = scratch
        unit(out)
        return cluster[np.argsort(order)]


def caption_vectors(limit: int = 0) -> np.ndarray:
    """MiniLM embeddings (unit length) of the ROCO validation/radiology captions (the first `limit`
    of them, or all), cached by content."""
    text = CAPTIONS.read_bytes()
    if limit:
        text = b"\n".join(text.splitlines()[:limit]) + b"\n"
    cache = ROOT / "var" / "bench" / f"minilm-roco-{hashlib.sha256(text).hexdigest()[:12]}.npy"
    if cache.exists():
        return np.load(cache)
    import torch
    from sentence_transformers import SentenceTransformer

    from apps.ml.specs import default_caption_model

    torch.set_num_threads(os.cpu_count() or 1)
    captions = [line.split("\t", 1)[1].strip() for line in text.decode().splitlines() if "\t" in line]
    model = SentenceTransformer(default_caption_model(), device="cpu", local_files_only=True)
    vectors = model.encode(captions, batch_size=64, normalize_embeddings=True, show_progress_bar=False)
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.save(cache, vectors.astype(np.float32))
    return np.load(cache)


class Exact:
    """Exact top-k by cosine (dot products of unit vectors), fed in chunks so 1M x 768 never has to fit."""

    def __init__(self, queries: np.ndarray, depth: int) -> None:
        self.queries = queries
        self.depth = depth
        self.best_s = np.full((len(queries), depth), -np.inf, dtype=np.float32)
        self.best_i = np.zeros((len(queries), depth), dtype=np.int64)

    def add(self, vectors: np.ndarray, ids: np.ndarray) -> None:
        if len(vectors) == 0:
            return
        scores = self.queries @ vectors.T
        cand = np.broadcast_to(ids, scores.shape)
        if scores.shape[1] > self.depth:
            top = np.argpartition(-scores, self.depth - 1, axis=1)[:, : self.depth]
            scores, cand = np.take_along_axis(scores, top, axis=1), np.take_along_axis(cand, top, axis=1)
        all_s = np.concatenate([self.best_s, scores], axis=1)
        all_i = np.concatenate([self.best_i, cand], axis=1)
        top = np.argpartition(-all_s, self.depth - 1, axis=1)[:, : self.depth]
        self.best_s = np.take_along_axis(all_s, top, axis=1)
        self.best_i = np.take_along_axis(all_i, top, axis=1)

    def result(self) -> tuple[np.ndarray, np.ndarray]:
        order = np.argsort(-self.best_s, axis=1)
        return np.take_along_axis(self.best_i, order, axis=1), np.take_along_axis(self.best_s, order, axis=1)


def difficulty(sims: np.ndarray, sample_sims: np.ndarray) -> tuple[float, float]:
    """Relative contrast (mean distance / distance of the 10th neighbour, He et al. 2012) and the
    maximum-likelihood local intrinsic dimensionality over the 100 nearest (Amsaleg et al. 2015);
    median over the queries. Harder data: contrast nearer 1, dimensionality higher."""
    dist = np.maximum(1.0 - sims, 1e-12)
    contrast = np.median((1.0 - sample_sims).mean(axis=1) / dist[:, K - 1])
    lid = -1.0 / np.mean(np.log(dist[:, :-1] / dist[:, -1:]), axis=1)
    return float(contrast), float(np.median(lid))


# --- database -------------------------------------------------------------------------------------


def connect(dbname: str):
    import psycopg

    return psycopg.connect(
        host=os.environ["MIRAGE_DB_SOCKET"],
        port=os.environ["MIRAGE_DB_PORT"],
        user="postgres",
        dbname=dbname,
        autocommit=True,
    )


def create_database() -> None:
    with connect("postgres") as c:
        c.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        c.execute(f"CREATE DATABASE {DB_NAME}")


def drop_database() -> None:
    with connect("postgres") as c:
        c.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")


SCHEMA = """
CREATE EXTENSION vector;
CREATE TABLE image (
    id integer PRIMARY KEY,
    modality varchar(20) NOT NULL,  -- 5% 'ultrasound', drawn per image: independent of the vectors
    topic varchar(20) NOT NULL      -- 5% 'thyroid', drawn per cluster: follows the vectors
);
CREATE TABLE corpus_embedding (
    id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    image_id integer NOT NULL REFERENCES image (id) DEFERRABLE INITIALLY DEFERRED,
    space_id integer NOT NULL,
    vector vector NOT NULL,
    CONSTRAINT embedding_unique_per_space UNIQUE (space_id, image_id)
);
"""


def copy_images(conn, *, first_id: int, modality: np.ndarray, topic: np.ndarray) -> None:
    ids = np.arange(first_id, first_id + len(modality))
    lines = "".join(
        f"{i}\t{'ultrasound' if m else 'ct'}\t{'thyroid' if t else 'chest'}\n"
        for i, m, t in zip(ids.tolist(), modality.tolist(), topic.tolist(), strict=True)
    )
    with conn.cursor().copy("COPY image (id, modality, topic) FROM STDIN") as copy:
        copy.write(lines)


class CopyWriter:
    """COPY in PostgreSQL's binary format (pgvector's wire format: int16 dim, int16 0, float4s),
    through one reused row buffer."""

    def __init__(self, dim: int, rows: int) -> None:
        row = np.dtype(
            [
                ("fields", ">i2"),
                ("len_image", ">i4"),
                ("image", ">i4"),
                ("len_space", ">i4"),
                ("space", ">i4"),
                ("len_vector", ">i4"),
                ("dim", ">i2"),
                ("unused", ">i2"),
                ("vector", ">f4", (dim,)),
            ]
        )
        self.rows = np.zeros(rows, dtype=row)
        self.rows["fields"], self.rows["len_image"], self.rows["len_space"] = 3, 4, 4
        self.rows["len_vector"] = 4 + 4 * dim
        self.rows["dim"] = dim

    def copy(self, conn, *, space: int, first_id: int, vectors: np.ndarray) -> float:
        """Seconds spent, packing included."""
        t = time.perf_counter()
        rows = self.rows[: len(vectors)]
        rows["image"] = np.arange(first_id, first_id + len(vectors))
        rows["space"] = space
        rows["vector"] = vectors
        payload = memoryview(rows).cast("B")
        with conn.cursor().copy(
            "COPY corpus_embedding (image_id, space_id, vector) FROM STDIN (FORMAT binary)"
        ) as copy:
            copy.write(COPY_HEADER)
            for start in range(0, len(payload), 1 << 23):
                copy.write(payload[start : start + (1 << 23)])
            copy.write(COPY_TRAILER)
        return time.perf_counter() - t


def literal(vector: np.ndarray) -> str:
    return "[" + ",".join(f"{x:.7g}" for x in vector.tolist()) + "]"


def setting(conn, name: str) -> str:
    return conn.execute(f"SHOW {name}").fetchone()[0]


def size_mb(conn, relation: str, total: bool = False) -> float:
    fn = "pg_total_relation_size" if total else "pg_relation_size"
    return conn.execute(f"SELECT {fn}('{relation}'::regclass)").fetchone()[0] / 2**20


# --- queries --------------------------------------------------------------------------------------


def search_sql(config: Config | None, *, space: int, dim: int, rerank: int, where: str) -> str:
    """The query the platform would send. `config` None: exact (no index on this space).

    The join on `image` is the platform's shape (its filters live there); the similarity is always
    computed on the stored full-precision vector.
    """
    join = "JOIN image i ON i.id = e.image_id " if where else ""
    cond = f"e.space_id = {space}" + (f" AND {where}" if where else "")
    exact = f"e.vector::vector({dim}) <=> %(q)s::vector({dim})"
    if config is None:
        # OFFSET 0 keeps the planner from ordering by an index: a sequential scan and a top-10 sort.
        return (
            f"SELECT image_id, 1 - d FROM (SELECT e.image_id, {exact} AS d FROM corpus_embedding e {join}"
            f"WHERE {cond} OFFSET 0) s ORDER BY d LIMIT {K}"
        )
    by_index = config.distance(dim, "%(q)s").replace("(vector", "(e.vector")
    if rerank == 0:
        return (
            f"SELECT e.image_id, 1 - ({exact}) FROM corpus_embedding e {join}"
            f"WHERE {cond} ORDER BY {by_index} LIMIT {K}"
        )
    return (
        f"SELECT c.image_id, 1 - (c.vector::vector({dim}) <=> %(q)s::vector({dim})) AS similarity "
        f"FROM (SELECT e.image_id, e.vector FROM corpus_embedding e {join}"
        f"WHERE {cond} ORDER BY {by_index} LIMIT {rerank}) c "
        f"ORDER BY c.vector::vector({dim}) <=> %(q)s::vector({dim}) LIMIT {K}"
    )


@dataclass
class Measured:
    recall: float
    p50: float
    p95: float
    short: int  # queries answered with fewer than K results
    planner_picks_index: bool  # whether the planner chose the index on its own
    index_used: bool
    server_p50: float  # median "Execution Time" of EXPLAIN ANALYZE over the first SERVER_PROBE queries
    pages: float  # median 8 KB pages touched per query (shared buffers hit + read)


def explain(conn, sql: str, q: str) -> str:
    return "\n".join(r[0] for r in conn.execute("EXPLAIN " + sql, {"q": q}).fetchall())


def run_queries(
    conn,
    sql: str,
    queries: list[str],
    truth: np.ndarray,
    *,
    index: str | None,
    server_probe: int = SERVER_PROBE,
) -> Measured:
    """Recall and latency of `sql` over the queries, one at a time (a prepared statement).

    With an index to measure, explicit sorts are switched off (every exact plan needs one to order by
    distance) so that the index is what is measured even where the planner would prefer an exact
    scan (small tables, filters); whether it would have picked the index on its own is reported.
    """
    picks = index is None or index in explain(conn, sql, queries[0])
    if index is not None:
        conn.execute("SET enable_sort = off")
    used = index is None or index in explain(conn, sql, queries[0])
    times, hits, short = [], 0, 0
    with conn.cursor() as cur:
        for q, true_ids in zip(queries, truth, strict=True):
            t = time.perf_counter()
            cur.execute(sql, {"q": q}, prepare=True)
            rows = cur.fetchall()
            times.append(time.perf_counter() - t)
            hits += len({r[0] for r in rows} & set(true_ids[:K].tolist()))
            short += len(rows) < K
    server, pages = [], []
    for q in queries[:server_probe]:
        plan = [
            r[0] for r in conn.execute("EXPLAIN (ANALYZE, BUFFERS, TIMING OFF) " + sql, {"q": q}).fetchall()
        ]
        server.append(float(plan[-1].split(":")[1].split()[0]))
        # The top node's line counts every page the query touched: hit in shared buffers or read.
        counts = next(line for line in plan if "Buffers:" in line)
        pages.append(
            sum(int(part.split("=")[1]) for part in counts.split() if part.startswith(("hit=", "read=")))
        )
    conn.execute("RESET enable_sort")
    times.sort()
    return Measured(
        recall=hits / (K * len(queries)),
        p50=statistics.median(times) * 1000,
        p95=times[int(0.95 * (len(times) - 1))] * 1000,
        short=short,
        planner_picks_index=picks,
        index_used=used,
        server_p50=statistics.median(server),
        pages=statistics.median(pages),
    )


def warm_up(conn, sql: str, queries: list[str]) -> None:
    """Queries not measured, so the measured ones find the index's upper layers and the plan cached."""
    conn.execute("SET enable_sort = off")
    with conn.cursor() as cur:
        for q in queries:
            cur.execute(sql, {"q": q}, prepare=True)
            cur.fetchall()
    conn.execute("RESET enable_sort")


def session(conn, *, ef_search: int, rerank: int) -> None:
    conn.execute(f"SET hnsw.ef_search = {max(ef_search, rerank)}")
    conn.execute("SET hnsw.iterative_scan = relaxed_order")


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[int(q * (len(xs) - 1))] * 1000


# --- the run --------------------------------------------------------------------------------------


class Report:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def say(self, text: str = "") -> None:
        print(text, flush=True)
        self.lines.append(text)

    def table(self, header: list[str], rows: list[list[object]]) -> None:
        self.say("| " + " | ".join(header) + " |")
        self.say("|" + "---|" * len(header))
        for row in rows:
            self.say("| " + " | ".join(f"{v:.3g}" if isinstance(v, float) else str(v) for v in row) + " |")
        self.say()


def yes(flag: bool) -> str:
    return "index" if flag else "exact scan"


def ratio(x: float) -> str:
    return f"{x:,.0f}x" if x >= 10 else f"{x:.2g}x"


def fmt(x: float) -> str:
    return f"{x:.1f}" if x >= 10 else f"{x:.2f}"


def main() -> None:
    global DB_NAME  # --database: a second run beside a running one
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="5,000 vectors, 2,000 captions, 100 queries; the platform's configuration",
    )
    parser.add_argument("--n", type=int, help="synthetic vectors (default 1,000,000; 5,000 with --quick)")
    parser.add_argument("--dim", type=int, default=768)
    parser.add_argument("--clusters", type=int, help="default: n / 250, at most 4,000")
    parser.add_argument(
        "--queries", type=int, help="held-out synthetic queries (default 256; 100 with --quick)"
    )
    names = [*CONFIGS, PLATFORM]
    parser.add_argument("--configs", default="", help=f"comma-separated names, or 'all' {names}")
    parser.add_argument("--workers", type=int, default=1, help="max_parallel_maintenance_workers")
    parser.add_argument("--maintenance-work-mem", default="4GB", help="enough for a 1M halfvec graph")
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--database", default=DB_NAME)
    args = parser.parse_args()
    DB_NAME = args.database
    n = args.n or (5_000 if args.quick else 1_000_000)
    clusters = args.clusters or max(8, min(4000, n // 250))
    if args.configs == "all":
        names = [*CONFIGS, PLATFORM]
    elif args.configs:
        names = args.configs.split(",")
    else:
        names = QUICK_RUN if args.quick else FULL_RUN
    args.queries = args.queries or (100 if args.quick else 256)

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mirage_site.settings")
    from mirage_site.bootstrap import prepare

    prepare()
    CONFIGS[PLATFORM] = platform_config()
    configs = [CONFIGS[name] for name in names]
    if args.quick:
        own = platform_point()
        sweep = tuple(sorted({*QUICK_SWEEP, own}))
        configs = [replace(c, sweep=sweep, filter_points=(own,)) for c in configs]
    report = Report()
    started = time.perf_counter()
    create_database()
    try:
        _run(report, args, n=n, clusters=clusters, configs=configs)
    finally:
        if not args.keep:
            drop_database()
    report.say(
        f"Total run time {time.perf_counter() - started:.0f} s; "
        f"database {'kept' if args.keep else 'dropped'}."
    )
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text("\n".join(report.lines) + "\n")
        print(f"written to {args.out}")


def _run(report: Report, args, *, n: int, clusters: int, configs: list[Config]) -> None:
    conn = connect(DB_NAME)
    conn.execute(SCHEMA)
    dim = args.dim
    cores = os.cpu_count()
    load = os.getloadavg()[0]
    pgvector = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'").fetchone()[0]
    report.say(f"## Vector search, {n:,} x {dim} synthetic + ROCO captions (MiniLM, 384-d)")
    report.say()
    report.say(
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {cores} cores "
        f"(load average {load:.1f} at start, "
        f"shared with other work); PostgreSQL {setting(conn, 'server_version')}, pgvector "
        f"{pgvector}, "
        f"shared_buffers {setting(conn, 'shared_buffers')} (huge pages: "
        f"{setting(conn, 'huge_pages_status')}); index builds with maintenance_work_mem "
        f"{args.maintenance_work_mem} and {args.workers} parallel maintenance worker(s). "
        f"{args.queries} held-out queries per data set; latency is client-side, one query at a time, "
        f"after a warm-up pass, including the text literal of the query vector."
    )
    report.say()

    # Synthetic data: generate, COPY, exact answers on the fly.
    data = ClusteredSphere(dim=dim, clusters=clusters, seed=args.seed)
    rng = np.random.default_rng(args.seed + 1)
    warm_n = 16 if args.quick else 64
    queries = np.empty((args.queries + warm_n, dim), dtype=np.float32)
    data.sample(queries, rng)
    warm, queries = queries[:warm_n], queries[warm_n:]
    topic_clusters = np.zeros(clusters, dtype=bool)
    for c in rng.permutation(clusters):  # clusters tagged 'thyroid' until 5% of the images are
        if data.share[topic_clusters].sum() >= FILTER_SHARE:
            break
        topic_clusters[c] = True
    truth = Exact(queries, GT_DEPTH)
    truth_mod = Exact(queries, K)
    truth_topic = Exact(queries, K)
    # The whole matrix stays in memory for the numpy scan, as a numpy search service would hold it.
    matrix = np.empty((n, dim), dtype=np.float32)
    scratch = np.empty((min(CHUNK, n), dim), dtype=np.float32)
    writer = CopyWriter(dim, min(CHUNK, n))
    t_gen = t_copy = 0.0
    for first in range(0, n, CHUNK):
        size = min(CHUNK, n - first)
        vectors = matrix[first : first + size]
        t = time.perf_counter()
        cluster = data.sample(vectors, rng, scratch)
        t_gen += time.perf_counter() - t
        modality = rng.random(size) < FILTER_SHARE
        topic = topic_clusters[cluster]
        copy_images(conn, first_id=first + 1, modality=modality, topic=topic)
        t_copy += writer.copy(conn, space=SYNTHETIC, first_id=first + 1, vectors=vectors)
        ids = np.arange(first + 1, first + 1 + size)
        truth.add(vectors, ids)
        truth_mod.add(vectors[modality], ids[modality])
        truth_topic.add(vectors[topic], ids[topic])
    del scratch, writer
    gt_ids, gt_sims = truth.result()
    contrast, lid = difficulty(gt_sims, queries @ matrix[:10_000].T)

    # Real data: MiniLM caption vectors, the last 256 held out as queries.
    real = caption_vectors(2_000 if args.quick else 0)
    real_q, real_db = real[-REAL_HELD_OUT:], real[:-REAL_HELD_OUT]
    real_first = n + 1
    copy_images(
        conn,
        first_id=real_first,
        modality=np.zeros(len(real_db), dtype=bool),
        topic=np.zeros(len(real_db), dtype=bool),
    )
    CopyWriter(real.shape[1], len(real_db)).copy(conn, space=CAPTION, first_id=real_first, vectors=real_db)
    real_truth = Exact(real_q, GT_DEPTH)
    real_truth.add(real_db, np.arange(real_first, real_first + len(real_db)))
    real_ids, real_sims = real_truth.result()
    real_q, real_ids = real_q[: args.queries], real_ids[: args.queries]
    real_contrast, real_lid = difficulty(real_sims, real[-REAL_HELD_OUT:] @ real_db[:10_000].T)
    t = time.perf_counter()
    conn.execute("CREATE INDEX image_modality_idx ON image (modality)")  # as the platform has
    conn.execute("CREATE INDEX image_topic_idx ON image (topic)")
    conn.execute("ANALYZE image")
    conn.execute("ANALYZE corpus_embedding")
    t_analyze = time.perf_counter() - t

    report.say("### Data and load")
    report.say()
    report.table(
        ["data", "vectors", "dim", "clusters", "relative contrast", "local intrinsic dim."],
        [
            ["clustered synthetic", f"{n:,}", dim, f"{clusters:,}", fmt(contrast), fmt(lid)],
            [
                "ROCO captions, MiniLM",
                f"{len(real_db):,}",
                real.shape[1],
                "-",
                fmt(real_contrast),
                fmt(real_lid),
            ],
        ],
    )
    heap = size_mb(conn, "corpus_embedding")
    total = size_mb(conn, "corpus_embedding", total=True)
    report.table(
        ["step", "seconds", "vectors/s"],
        [
            ["generate (numpy)", fmt(t_gen), f"{n / t_gen:,.0f}"],
            ["COPY binary (PK, unique and FK checks on)", fmt(t_copy), f"{n / t_copy:,.0f}"],
            ["ANALYZE", fmt(t_analyze), "-"],
        ],
    )
    report.say(
        f"Table corpus_embedding: heap {heap:,.0f} MB, with TOAST and b-tree indexes {total:,.0f} MB "
        f"(a 768-d vector is 3 KB, stored out of line: pgvector's types are STORAGE external)."
    )
    report.say()

    q_text = [literal(q) for q in queries]
    warm_text = [literal(q) for q in warm]
    real_text = [literal(q) for q in real_q]

    # Exact baselines.
    rows = []
    # Exact scans cost seconds each at 1M: a few queries give their median.
    probe = min(len(queries), 32 if n <= 100_000 else 8)
    times = []
    for q in queries[:probe]:
        t = time.perf_counter()
        s = matrix @ q
        top = np.argpartition(-s, K)[:K]
        top[np.argsort(-s[top])]
        times.append(time.perf_counter() - t)
    numpy_p50 = statistics.median(times) * 1000
    rows.append(
        ["numpy scan (float32 matrix in memory)", probe, "1.000", fmt(numpy_p50), fmt(pct(times, 0.95)), "-"]
    )
    del matrix
    exact_sql = search_sql(None, space=SYNTHETIC, dim=dim, rerank=0, where="")
    pg = run_queries(conn, exact_sql, q_text[:probe], gt_ids[:probe], index=None, server_probe=3)
    exact_p50 = pg.p50
    rows.append(
        [
            "PostgreSQL exact (sequential scan)",
            probe,
            f"{pg.recall:.3f}",
            fmt(pg.p50),
            fmt(pg.p95),
            fmt(pg.server_p50),
        ]
    )
    real_sql = search_sql(None, space=CAPTION, dim=real.shape[1], rerank=0, where="")
    rpg = run_queries(conn, real_sql, real_text, real_ids, index=None)
    rows.append(
        [
            "PostgreSQL exact, ROCO captions",
            len(real_text),
            f"{rpg.recall:.3f}",
            fmt(rpg.p50),
            fmt(rpg.p95),
            fmt(rpg.server_p50),
        ]
    )
    filtered_exact = {}
    for label, where, gt in [
        ("modality", "i.modality = 'ultrasound'", truth_mod.result()[0]),
        ("topic", "i.topic = 'thyroid'", truth_topic.result()[0]),
    ]:
        sql = search_sql(None, space=SYNTHETIC, dim=dim, rerank=0, where=where)
        fe = run_queries(conn, sql, q_text[:probe], gt[:probe], index=None, server_probe=3)
        filtered_exact[label] = (where, gt, fe)
        rows.append(
            [
                f"PostgreSQL exact, filter `{where}`",
                probe,
                f"{fe.recall:.3f}",
                fmt(fe.p50),
                fmt(fe.p95),
                fmt(fe.server_p50),
            ]
        )
    report.say("### Exact search (the reference)")
    report.say()
    report.table(["method", "queries", "recall@10", "p50 ms", "p95 ms", "server p50 ms"], rows)

    builds, sweep_rows, filter_rows = [], [], []
    for config in configs:
        conn.execute(f"SET maintenance_work_mem = '{args.maintenance_work_mem}'")
        conn.execute(f"SET max_parallel_maintenance_workers = {args.workers}")
        t = time.perf_counter()
        conn.execute(config.ddl(space=SYNTHETIC, dim=dim))
        t_build = time.perf_counter() - t
        t = time.perf_counter()
        conn.execute(config.ddl(space=CAPTION, dim=real.shape[1]))
        t_real = time.perf_counter() - t
        conn.execute("RESET maintenance_work_mem")
        builds.append(
            [
                config.name,
                f"`{config.key(dim)} {config.opclass()}`, "
                f"m {config.m}, ef_construction {config.ef_construction}",
                fmt(t_build),
                f"{size_mb(conn, config.index_name(SYNTHETIC)):,.0f}",
                fmt(t_real),
                f"{size_mb(conn, config.index_name(CAPTION)):,.1f}",
            ]
        )
        print(f"  built {config.name} in {t_build:.1f} s", flush=True)
        for ef, rerank in config.sweep:
            session(conn, ef_search=ef, rerank=rerank)
            sql = search_sql(config, space=SYNTHETIC, dim=dim, rerank=rerank, where="")
            warm_up(conn, sql, warm_text)
            m = run_queries(conn, sql, q_text, gt_ids, index=config.index_name(SYNTHETIC))
            rsql = search_sql(config, space=CAPTION, dim=real.shape[1], rerank=rerank, where="")
            r = run_queries(conn, rsql, real_text, real_ids, index=config.index_name(CAPTION))
            sweep_rows.append(
                [
                    config.name,
                    ef,
                    rerank or "-",
                    f"{m.recall:.3f}",
                    fmt(m.p50),
                    fmt(m.p95),
                    fmt(m.server_p50),
                    f"{m.pages:,.0f}",
                    ratio(exact_p50 / m.p50),
                    ratio(numpy_p50 / m.p50),
                    f"{r.recall:.3f}",
                    fmt(r.p50),
                ]
                + [yes(m.planner_picks_index) + " / " + yes(r.planner_picks_index)]
                + ([] if m.index_used and r.index_used else ["INDEX NOT USED"])
            )
            print("  ", sweep_rows[-1], flush=True)
        for (ef, rerank), (where, gt, fe) in [
            (point, case) for point in config.filter_points for case in filtered_exact.values()
        ]:
            session(conn, ef_search=ef, rerank=rerank)
            sql = search_sql(config, space=SYNTHETIC, dim=dim, rerank=rerank, where=where)
            m = run_queries(
                conn, sql, q_text[:FILTER_QUERIES], gt[:FILTER_QUERIES], index=config.index_name(SYNTHETIC)
            )
            filter_rows.append(
                [
                    config.name,
                    ef,
                    rerank or "-",
                    f"`{where}`",
                    f"{m.recall:.3f}",
                    m.short,
                    fmt(m.p50),
                    fmt(m.p95),
                    fmt(m.server_p50),
                    f"{m.pages:,.0f}",
                    fmt(fe.p50),
                ]
                + [yes(m.planner_picks_index)]
                + ([] if m.index_used else ["INDEX NOT USED"])
            )
            print("  ", filter_rows[-1], flush=True)
        conn.execute(f"DROP INDEX {config.index_name(SYNTHETIC)}")
        conn.execute(f"DROP INDEX {config.index_name(CAPTION)}")

    report.say("### Index builds")
    report.say()
    report.table(["configuration", "index", "build s", "size MB", "captions build s", "captions MB"], builds)
    report.say("### Top-10 search")
    report.say()
    report.say(
        "`hnsw.ef_search` as set per query (at least the re-rank count), "
        "`hnsw.iterative_scan = relaxed_order`; "
        "re-rank N: the index's top N re-ordered by exact cosine on the stored vectors in the same query. "
        "Sorts are switched off while an index is measured (`SET enable_sort = off`; an exact plan "
        "needs one) so the index is what is measured; the last column says what the planner picks "
        "with them on (synthetic / captions)."
    )
    report.say()
    report.table(
        [
            "configuration",
            "ef_search",
            "re-rank N",
            "recall@10",
            "p50 ms",
            "p95 ms",
            "server p50 ms",
            "pages / query",
            "vs PG exact",
            "vs numpy",
            "captions recall@10",
            "captions p50 ms",
            "planner's own choice",
        ],
        sweep_rows,
    )
    report.say("### Filtered top-10, 5% of the images")
    report.say()
    report.say(
        "`modality`: 5% of images drawn independently of their vectors. "
        "`topic`: whole clusters holding 5% of "
        "the images, so most queries' neighbourhoods hold none of them (the hard case for a graph index). "
        "Short: queries answered with fewer than 10 results."
    )
    report.say()
    report.table(
        [
            "configuration",
            "ef_search",
            "re-rank N",
            "filter",
            "recall@10",
            "short",
            "p50 ms",
            "p95 ms",
            "server p50 ms",
            "pages / query",
            "exact p50 ms",
            "planner's own choice",
        ],
        filter_rows,
    )
    conn.close()


if __name__ == "__main__":
    main()
