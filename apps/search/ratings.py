"""Relevance ratings out and back in: a TREC qrels file and a CSV, and the scores computed on them.

qrels lines are `QUERY_ID 0 IMAGE_ID GRADE` (TREC: whitespace-separated, the second column unused).
The query id is the normalised query with its spaces written as underscores, so the file is readable
and the query can be read back from it; the image id is the image's external id (the ROCO id),
stable across installs. Several raters' grades of one pair are averaged and rounded.
"""

from __future__ import annotations

import csv
import io
import math
from collections import defaultdict
from pathlib import Path

from django.db.models import Avg

from apps.search.models import RelevanceRating

Qrels = dict[str, dict[str, int]]  # query → image external id → grade


def query_id(query: str) -> str:
    return query.replace("_", " ").replace(" ", "_")


def query_from_id(qid: str) -> str:
    return qid.replace("_", " ")


def ratings_qrels() -> str:
    """The ratings as a TREC qrels file (one line per query and image, grades averaged over raters)."""
    rows = (
        RelevanceRating.objects.values("query", "image__external_id")
        .annotate(grade=Avg("grade"))
        .order_by("query", "image__external_id")
    )
    return "".join(f"{query_id(r['query'])} 0 {r['image__external_id']} {round(r['grade'])}\n" for r in rows)


def ratings_csv() -> str:
    """Every rating, one row each: query, image (external id and database id), rater, grade, date."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["query", "image", "image_pk", "rater", "grade", "grade_label", "created"])
    for rating in RelevanceRating.objects.select_related("image", "rater"):
        writer.writerow(
            [
                rating.query,
                rating.image.external_id,
                rating.image_id,
                rating.rater.get_username(),
                rating.grade,
                rating.get_grade_display(),
                rating.created.isoformat(),
            ]
        )
    return out.getvalue()


def read_qrels(path: Path) -> Qrels:
    """A qrels file (`ratings_qrels`), or the CSV export (`ratings_csv`) when the name ends in .csv."""
    qrels: Qrels = defaultdict(dict)
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".csv":
        grades: dict[tuple[str, str], list[int]] = defaultdict(list)
        for row in csv.DictReader(io.StringIO(text)):
            grades[(row["query"], row["image"])].append(int(row["grade"]))
        for (query, image), values in grades.items():
            qrels[query][image] = round(sum(values) / len(values))
        return dict(qrels)
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) != 4 or not parts[3].lstrip("-").isdigit():
            raise ValueError(f"{path}:{number}: expected `QUERY_ID 0 IMAGE_ID GRADE`, got {line!r}")
        qrels[query_from_id(parts[0])][parts[2]] = int(parts[3])
    return dict(qrels)


def ndcg_at(ranked: list[str], judged: dict[str, int], k: int = 10) -> float:
    """nDCG@k with graded gains (2^grade − 1); unjudged images count as not relevant."""
    dcg = sum((2 ** judged.get(doc, 0) - 1) / math.log2(i + 2) for i, doc in enumerate(ranked[:k]))
    ideal = sorted(judged.values(), reverse=True)[:k]
    best = sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / best if best > 0 else 0.0


def precision_at(ranked: list[str], judged: dict[str, int], k: int = 10) -> float:
    """P@k: the share of the first k that were judged relevant or partly relevant (grade ≥ 1)."""
    return sum(1 for doc in ranked[:k] if judged.get(doc, 0) >= 1) / k
