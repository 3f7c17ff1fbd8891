import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from apps.search.channels import FULL_TEXT
from apps.search.evaluation import (
    FUSED,
    PAPER,
    RERANKED,
    evaluate,
    evaluate_qrels,
    evaluation_dir,
    write_csv,
)
from apps.search.ratings import read_qrels


class Command(BaseCommand):
    help = (
        "Recall@K and MRR of the search channels, their fusion, the paper's ranking and the re-ranked "
        "order on one split of the corpus; with --qrels, nDCG@10 and P@10 of each ranking on rated queries."
    )

    def add_arguments(self, parser):
        parser.add_argument("--split", help="e.g. validation (required without --qrels)")
        parser.add_argument(
            "--qrels", type=Path, help="a TREC qrels file (or the CSV) of instructors' relevance ratings"
        )
        parser.add_argument(
            "--space",
            action="append",
            choices=["clip", "caption", FULL_TEXT, FUSED, PAPER, RERANKED],
            help="channels to report (default: all that can run)",
        )
        parser.add_argument("--k", default="1,5,10", help="comma-separated cut-offs (default 1,5,10)")
        parser.add_argument("--limit", type=int, help="evaluate only the first N entries")
        parser.add_argument(
            "--csv",
            type=Path,
            help="where to write the table (default var/evaluation/…, shown on the page /search/evaluation/)",
        )

    def handle(self, *args, split, qrels, space, k, limit, csv, **options):
        if qrels is not None:
            return self.handle_qrels(qrels)
        if not split:
            raise CommandError("give --split (or --qrels)")
        try:
            ks = sorted({int(part) for part in k.split(",") if part.strip()})
        except ValueError:
            raise CommandError("--k takes whole numbers separated by commas, e.g. 1,5,10") from None
        if not ks or ks[0] < 1 or ks[-1] > 100:
            raise CommandError("--k values must be from 1 to 100")
        with tqdm(desc=f"evaluate {split}", unit="query", disable=None, file=sys.stderr) as bar:
            scores, notes = evaluate(split=split, ks=ks, channels=space, limit=limit, on_progress=bar.update)
        for note in notes:
            self.stdout.write(self.style.WARNING(note))
        if not scores:
            raise CommandError(f"nothing to evaluate in split {split!r}")
        header = f"| protocol | channel | queries | {' | '.join(f'R@{k}' for k in ks)} | MRR |"
        self.stdout.write(header)
        self.stdout.write("|" + "---|" * (4 + len(ks)))
        for score in scores:
            recall = " | ".join(f"{score.recall[k]:.3f}" for k in ks)
            self.stdout.write(
                f"| {score.protocol} | {score.channel} | {score.queries} | {recall} | {score.mrr:.3f} |"
            )
        path = csv or evaluation_dir() / f"retrieval-{split}.csv"
        write_csv(path, scores, ks)
        self.stdout.write(self.style.SUCCESS(f"written to {path}"))

    def handle_qrels(self, path: Path) -> None:
        try:
            judged = read_qrels(path)
        except (OSError, ValueError, KeyError) as exc:
            raise CommandError(f"cannot read {path}: {exc}") from None
        if not judged:
            raise CommandError(f"{path} holds no ratings")
        scores, notes = evaluate_qrels(qrels=judged)
        for note in notes:
            self.stdout.write(self.style.WARNING(note))
        self.stdout.write("| ranking | queries | nDCG@10 | P@10 |")
        self.stdout.write("|---|---|---|---|")
        for score in scores:
            self.stdout.write(
                f"| {score.ranking} | {score.queries} | {score.ndcg:.3f} | {score.precision:.3f} |"
            )
