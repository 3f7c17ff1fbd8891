from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from apps.corpus.management.importing import run_import
from apps.corpus.services import dataset_get_or_create
from apps.corpus.sources.rocov2 import read_rocov2


class Command(BaseCommand):
    help = "Import ROCOv2: {train,valid,test}_captions.csv, _concepts.csv and the image folders."

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)

    def handle(self, *args, path: Path, **options):
        if not path.is_dir():
            raise CommandError(f"{path} is not a folder.")
        try:
            records, problems = read_rocov2(path)
        except FileNotFoundError as exc:
            raise CommandError(str(exc)) from exc
        dataset = dataset_get_or_create(
            slug="rocov2",
            name="ROCOv2",
            description="ROCO version 2: 79,789 PubMed Central images with captions and UMLS concepts.",
            url="https://zenodo.org/records/8333645",
        )
        run_import(self, dataset=dataset, records=records, problems=problems, label="ROCOv2")
