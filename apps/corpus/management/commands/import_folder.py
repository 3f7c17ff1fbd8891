from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.text import slugify

from apps.corpus.management.importing import add_embed_argument, finish_import, run_import
from apps.corpus.services import dataset_get_or_create
from apps.corpus.sources.folder import read_folder


class Command(BaseCommand):
    help = "Import a folder of PNG, JPEG or DICOM images with a CSV or JSONL file of captions."

    def add_arguments(self, parser):
        add_embed_argument(parser)
        parser.add_argument("path", type=Path)
        parser.add_argument("--captions", type=Path, required=True, help="CSV or JSONL: file, caption, …")
        parser.add_argument("--dataset", help="dataset name (default: the folder's name)")

    def handle(self, *args, embed: bool, path: Path, captions: Path, dataset: str | None, **options):
        if not path.is_dir():
            raise CommandError(f"{path} is not a folder.")
        if not captions.is_file():
            raise CommandError(f"{captions} is not a file.")
        name = dataset or path.resolve().name
        try:
            records, problems = read_folder(path, captions)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        target = dataset_get_or_create(slug=slugify(name)[:64] or "folder", name=name, url="")
        run_import(self, dataset=target, records=records, problems=problems, label=name)
        finish_import(self, embed=embed)
