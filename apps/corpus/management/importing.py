"""What every import command does around the import service: progress bar, summary, and what to embed."""

from __future__ import annotations

import functools
import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from apps.core.errors import StorageFull
from apps.corpus.embeddings import embed_space, lacking_vectors
from apps.corpus.models import Dataset
from apps.corpus.records import EntryRecord, ParseProblem
from apps.corpus.services import ImportSummary, corpus_statistics_refresh, import_records
from apps.corpus.spaces import CAPTION, configured_spaces
from apps.ml.encoders import ModelUnavailable


def add_embed_argument(parser) -> None:
    parser.add_argument(
        "--no-embed",
        dest="embed",
        action="store_false",
        help="do not embed the new captions now (by default the caption space is embedded when its "
        "encoder is installed)",
    )


def run_import(
    command: BaseCommand,
    *,
    dataset: Dataset,
    records: list[EntryRecord],
    problems: list[ParseProblem],
    label: str,
) -> ImportSummary:
    with tqdm(total=len(records), desc=label, unit="entry", disable=None, file=sys.stderr) as bar:
        try:
            summary = import_records(dataset=dataset, records=records, on_progress=bar.update)
        except StorageFull as exc:
            raise CommandError(
                f"{exc} The entries imported before this are kept; run the same import again once there "
                "is space and it continues where this one stopped."
            ) from exc
    # Lines that could not be parsed never became records: they count as failed.
    summary.failed += len(problems)
    summary.problems[:0] = problems
    write_summary(command, summary)
    return summary


def write_summary(command: BaseCommand, summary: ImportSummary) -> None:
    for line in summary.lines():
        style = command.style.WARNING if line.startswith("problem:") else command.style.SUCCESS
        command.stdout.write(style(line))


def finish_import(command: BaseCommand, *, embed: bool) -> None:
    """Embed the caption space when its encoder is installed (and `embed`), and say which spaces
    still lack vectors and the command that gives them."""
    corpus_statistics_refresh()
    for name, config in configured_spaces().items():
        missing = lacking_vectors(config).count()
        if not missing:
            continue
        if embed and name == CAPTION:
            bar = tqdm(desc=f"embed {name}", unit="entry", disable=None, file=sys.stderr)
            try:
                summary = embed_space(
                    config=config, on_start=functools.partial(setattr, bar, "total"), on_progress=bar.update
                )
            except ModelUnavailable as exc:
                command.stdout.write(command.style.WARNING(f"{name}: not embedded now — {exc}"))
            else:
                command.stdout.write(
                    command.style.SUCCESS(f"{name}: embedded {summary.embedded}, failed {summary.failed}")
                )
                missing = summary.failed
            finally:
                bar.close()
        if missing:
            command.stdout.write(
                command.style.WARNING(
                    f"{name}: {missing} entries have no vector in the {config.label} yet — "
                    f"run `manage.py embed --space {name}`"
                )
            )
