from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from apps.corpus.management.importing import add_embed_argument, finish_import, run_import
from apps.corpus.services import dataset_get_or_create
from apps.corpus.sources.rocov2 import ROCOV2_DATASET, read_rocov2


class Command(BaseCommand):
    help = "Import ROCOv2: {train,valid,test}_captions.csv, _concepts.csv and the image folders."

    def add_arguments(self, parser):
        add_embed_argument(parser)
        parser.add_argument("path", type=Path)

    def handle(self, *args, embed: bool, path: Path, **options):
        if not path.is_dir():
            raise CommandError(f"{path} is not a folder.")
        try:
            records, problems = read_rocov2(path)
        except FileNotFoundError as exc:
            raise CommandError(str(exc)) from exc
        dataset = dataset_get_or_create(**ROCOV2_DATASET)
        run_import(self, dataset=dataset, records=records, problems=problems, label="ROCOv2")
        finish_import(self, embed=embed)
