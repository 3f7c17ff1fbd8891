"""What every import command does around the import service: progress bar and summary."""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from apps.core.errors import StorageFull
from apps.corpus.models import Dataset
from apps.corpus.records import EntryRecord, ParseProblem
from apps.corpus.services import ImportSummary, import_records


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
    for line in summary.lines():
        style = command.style.WARNING if line.startswith("problem:") else command.style.SUCCESS
        command.stdout.write(style(line))
    return summary
