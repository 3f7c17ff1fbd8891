"""Retrieval evaluation: Recall@K and MRR, per channel and fused, with the platform's own queries.

Two protocols, run on the images of one split:
- text → image (the protocol behind the CLIP model card: ROCO validation, R@10 = 0.679): each
  image's caption is the query, the image itself the one right answer, in the CLIP image space;
- keywords → caption: each entry's keywords are the query, its caption the right answer, in the
  caption space, in full text, in the CLIP space (text → image) when present, and fused by RRF.

Rankings: each channel alone; `fused` as the platform orders it (each channel above its
similarity floor, then RRF); `paper` (exact CLIP cosine, when CLIP is installed); and `reranked`:
the fused order re-ranked by a pseudo-description — the query joined with the first three captions
found — encoded like the platform's re-ranking (CLIP text tower, or the caption encoder). Real
descriptions from the bundled fallback language model would take seconds per query; the
pseudo-description is the cheap stand-in, and it is what the platform itself uses when no
description is given.

A target ranked below `depth` counts as not found (so MRR is MRR@depth).

With a qrels file (instructors' ratings, `apps.search.ratings`): nDCG@10 and P@10 of each ranking.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings

from apps.corpus.embeddings import images_missing
from apps.corpus.models import EmbeddingSpace, Image
from apps.corpus.spaces import CAPTION, CLIP, configured_spaces
from apps.search.channels import (
    FULL_TEXT,
    Channel,
    Ranking,
    above_floor,
    channel_for,
    exact_nearest_images,
    full_text_images,
    fuse,
    nearest_images,
    rerank,
)
from apps.search.filters import Filters, searchable_images
from apps.search.params import QueryError
from apps.search.rankings import FUSED, PAPER, RANKINGS, RERANKED
from apps.search.ratings import Qrels, ndcg_at, precision_at
from apps.search.selectors import floors, pseudo_description, text_search

TEXT_TO_IMAGE = "text→image (caption as query)"
KEYWORDS_TO_CAPTION = "keywords→caption"


@dataclass
class Score:
    protocol: str
    channel: str
    queries: int
    recall: dict[int, float]  # K → share of queries whose target is in the top K
    mrr: float


def _score(protocol: str, channel: str, ranks: list[int | None], ks: list[int]) -> Score:
    n = len(ranks)
    recall = {k: sum(1 for r in ranks if r is not None and r <= k) / n if n else 0.0 for k in ks}
    mrr = sum(1.0 / r for r in ranks if r is not None) / n if n else 0.0
    return Score(protocol=protocol, channel=channel, queries=n, recall=recall, mrr=mrr)


def _rank_of(target: int, ranking: Ranking) -> int | None:
    for position, (image_id, _) in enumerate(ranking, start=1):
        if image_id == target:
            return position
    return None


def evaluate(
    *,
    split: str,
    ks: list[int],
    channels: Iterable[str] | None = None,
    limit: int | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> tuple[list[Score], list[str]]:
    """Scores for each protocol and channel that can run; and a line for each that cannot."""
    depth = max(max(ks), 100)
    wanted = set(channels or [CLIP, CAPTION, FULL_TEXT, FUSED, PAPER, RERANKED])
    notes: list[str] = []
    available: dict[str, Channel] = {}
    for name, config in configured_spaces().items():
        if name not in wanted and not wanted & {FUSED, PAPER, RERANKED}:
            continue
        channel, reason = channel_for(config)
        if channel is None:
            notes.append(f"{name}: not evaluated — {reason}")
        else:
            available[name] = channel
    for name, channel in list(available.items()):
        # A space that lacks some of the split's vectors would score those entries as misses: say so,
        # and leave it out rather than report a recall that measures the embedding backlog.
        in_split = Image.objects.filter(split=split, moderation_state=Image.APPROVED)
        if channel.space.target == EmbeddingSpace.IMAGE:
            in_split = in_split.exclude(file="")
        lacking = images_missing(channel.space).filter(pk__in=in_split.values("pk")).count()
        if lacking:
            notes.append(
                f"{name}: not evaluated — {lacking} of {in_split.count()} entries of split {split!r} have "
                f"no vector in the {channel.config.label}; run `manage.py embed --space {name}`"
            )
            del available[name]

    entries = Image.objects.filter(split=split, moderation_state=Image.APPROVED).order_by("pk")
    if limit:
        entries = entries[:limit]
    entries = list(entries.values_list("pk", "caption", "keywords", "file"))
    if not entries:
        notes.append(f"no entries in split {split!r}")
        return [], notes
    scores: list[Score] = []

    clip = available.get(CLIP)
    if clip and CLIP in wanted:
        candidates = searchable_images(filters=Filters(split=split), require_file=True)
        with_image = [(pk, caption) for pk, caption, _, file in entries if file]
        vectors = clip.encoder.encode_texts([caption for _, caption in with_image])
        ranks = []
        for (pk, _), vector in zip(with_image, vectors, strict=True):
            ranks.append(
                _rank_of(pk, nearest_images(space=clip.space, vector=vector, limit=depth, among=candidates))
            )
            if on_progress:
                on_progress(1)
        if with_image:
            scores.append(_score(TEXT_TO_IMAGE, CLIP, ranks, ks))
        else:
            notes.append(f"clip: no images with files in split {split!r} for text→image")

    candidates = searchable_images(filters=Filters(split=split), require_file=False)
    queries = [(pk, " ".join(keywords)) for pk, _, keywords, _ in entries if keywords]
    per_channel: dict[str, list[int | None]] = {}
    fused_ranks: list[int | None] = []
    paper_ranks: list[int | None] = []
    reranked_ranks: list[int | None] = []
    describer = available.get(CLIP) or available.get(CAPTION)
    encoded = {name: ch.encoder.encode_texts([q for _, q in queries]) for name, ch in available.items()}
    for index, (pk, query) in enumerate(queries):
        rankings: dict[str, Ranking] = {}
        for name, ch in available.items():
            rankings[name] = nearest_images(
                space=ch.space, vector=encoded[name][index], limit=depth, among=candidates
            )
        rankings[FULL_TEXT] = full_text_images(query=query, limit=depth, among=candidates)
        for name, ranking in rankings.items():
            per_channel.setdefault(name, []).append(_rank_of(pk, ranking))
        fused = [
            (image_id, score)
            for image_id, score, _ in fuse(above_floor(rankings, floors()), rrf_k=settings.MIRAGE_RRF_K)
        ]
        fused_ranks.append(_rank_of(pk, fused[:depth]))
        if clip and PAPER in wanted:
            exact = exact_nearest_images(
                space=clip.space, vector=encoded[CLIP][index], limit=depth, among=candidates
            )
            paper_ranks.append(_rank_of(pk, exact))
        if describer and RERANKED in wanted:
            order = [image_id for image_id, _ in fused]
            text = pseudo_description(query=query, order=order)
            reordered = rerank(
                order=order,
                space=describer.space,
                vector=describer.encoder.encode_query(text),
                depth=settings.MIRAGE_RERANK_DEPTH,
            )
            reranked_ranks.append(_rank_of(pk, reordered[:depth]))
        if on_progress:
            on_progress(1)
    for name, ranks in per_channel.items():
        if name in wanted:
            scores.append(_score(KEYWORDS_TO_CAPTION, name, ranks, ks))
    if FUSED in wanted and queries:
        scores.append(_score(KEYWORDS_TO_CAPTION, f"{FUSED} ({' + '.join(per_channel)})", fused_ranks, ks))
    if PAPER in wanted and queries:
        if clip:
            scores.append(_score(KEYWORDS_TO_CAPTION, f"{PAPER} (exact CLIP)", paper_ranks, ks))
        else:
            notes.append("paper: not evaluated — it needs the CLIP space")
    if RERANKED in wanted and queries and describer:
        depth_label = f"top {settings.MIRAGE_RERANK_DEPTH}"
        label = f"{RERANKED} (fused, {depth_label} by pseudo-description, {describer.config.name})"
        scores.append(_score(KEYWORDS_TO_CAPTION, label, reranked_ranks, ks))
    return scores, notes


@dataclass
class QrelsScore:
    ranking: str
    queries: int
    ndcg: float  # mean nDCG@10
    precision: float  # mean P@10


def evaluate_qrels(*, qrels: Qrels, k: int = 10) -> tuple[list[QrelsScore], list[str]]:
    """nDCG@k and P@k of each ranking on the rated queries, searching as an anonymous visitor does
    (entries without an image file included, so a metadata-only corpus can be scored)."""
    scores: list[QrelsScore] = []
    notes: list[str] = []
    for ranking in RANKINGS:
        ndcgs, precisions = [], []
        try:
            for query, judged in qrels.items():
                result = text_search(query=query, k=k, ranking=ranking, require_file=False)
                ranked = [hit.image.external_id for hit in result.hits]
                ndcgs.append(ndcg_at(ranked, judged, k))
                precisions.append(precision_at(ranked, judged, k))
        except QueryError as exc:
            notes.append(f"{ranking}: not evaluated — {exc}")
            continue
        n = len(ndcgs)
        scores.append(
            QrelsScore(
                ranking=ranking,
                queries=n,
                ndcg=sum(ndcgs) / n if n else 0.0,
                precision=sum(precisions) / n if n else 0.0,
            )
        )
    return scores, notes


def write_csv(path: Path, scores: list[Score], ks: list[int]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["protocol", "channel", "queries", *[f"R@{k}" for k in ks], "MRR"])
        for score in scores:
            writer.writerow(
                [
                    score.protocol,
                    score.channel,
                    score.queries,
                    *[f"{score.recall[k]:.4f}" for k in ks],
                    f"{score.mrr:.4f}",
                ]
            )


def evaluation_dir() -> Path:
    """Where `evaluate_retrieval` writes its tables by default, and where the staff page reads them."""
    return Path(settings.VAR_DIR) / "evaluation"


@dataclass
class EvaluationRow:
    channel: str  # as written, e.g. "fused (caption + text)"
    queries: int
    recall: dict[int, float]
    mrr: float

    @property
    def short(self) -> str:
        """The channel's name without its parenthesis (a chart's label under its bars)."""
        return self.channel.split(" (", 1)[0]


@dataclass
class EvaluationTable:
    """One protocol's rows from the newest table that holds it."""

    protocol: str
    path: Path
    written: datetime
    ks: list[int]
    rows: list[EvaluationRow] = field(default_factory=list)

    @property
    def series(self) -> list[str]:
        return [f"R@{k}" for k in self.ks]

    @property
    def chart_groups(self) -> list[tuple[str, list[float]]]:
        """R@K per channel, for `{% grouped_bar_chart %}`."""
        return [(row.short, [round(row.recall[k], 3) for k in self.ks]) for row in self.rows]


def read_csv(path: Path) -> tuple[list[int], list[tuple[str, EvaluationRow]]]:
    """A table `write_csv` wrote: its cut-offs and its rows, each with its protocol.

    Raises ValueError (or KeyError, OSError) for a file that is not such a table."""
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        columns = reader.fieldnames or []
        ks = [int(name[2:]) for name in columns if name.startswith("R@")]
        if not ks or not {"protocol", "channel", "queries", "MRR"} <= set(columns):
            raise ValueError("not a table evaluate_retrieval wrote")
        rows = [
            (
                line["protocol"],
                EvaluationRow(
                    channel=line["channel"],
                    queries=int(line["queries"]),
                    recall={k: float(line[f"R@{k}"]) for k in ks},
                    mrr=float(line["MRR"]),
                ),
            )
            for line in reader
        ]
    return ks, rows


def latest_evaluations(*, folder: Path | None = None) -> tuple[list[EvaluationTable], list[str]]:
    """For each protocol, its rows in the newest CSV of `folder` (default `evaluation_dir()`) that
    holds it; and a line for each file there that could not be read."""
    folder = folder or evaluation_dir()
    tables: dict[str, EvaluationTable] = {}
    problems: list[str] = []
    for path in sorted(folder.glob("*.csv"), key=lambda p: p.stat().st_mtime, reverse=True):
        try:
            ks, rows = read_csv(path)
        except (OSError, ValueError, KeyError) as exc:
            problems.append(f"{path.name}: not read — {exc}")
            continue
        written = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
        for protocol, row in rows:
            if protocol not in tables:
                tables[protocol] = EvaluationTable(protocol=protocol, path=path, written=written, ks=ks)
            if tables[protocol].path == path:
                tables[protocol].rows.append(row)
    # The paper's protocol first, then the others by name.
    return sorted(tables.values(), key=lambda t: (t.protocol != TEXT_TO_IMAGE, t.protocol)), problems
