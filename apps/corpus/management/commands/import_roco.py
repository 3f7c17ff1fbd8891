from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from apps.corpus.management.importing import add_embed_argument, finish_import, run_import
from apps.corpus.services import dataset_get_or_create
from apps.corpus.sources.roco import ROCO_DATASET, find_roco_folders, read_roco


class Command(BaseCommand):
    help = "Import ROCO (dataset root, its data/ folder, or one split/category folder). Images are optional."

    def add_arguments(self, parser):
        add_embed_argument(parser)
        parser.add_argument("path", type=Path)
        parser.add_argument("--split", choices=["train", "validation", "test"])
        parser.add_argument("--category", choices=["radiology", "non-radiology"])

    def handle(self, *args, embed: bool, path: Path, split: str | None, category: str | None, **options):
        if not path.exists():
            raise CommandError(f"{path} does not exist.")
        try:
            folders = find_roco_folders(path, split=split, category=category)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        dataset = dataset_get_or_create(**ROCO_DATASET)
        for folder, folder_split, folder_category in folders:
            records, problems = read_roco(folder, split=folder_split, category=folder_category)
            self.stdout.write(
                f"{folder} ({folder_split or '?'} / {folder_category or '?'}): {len(records)} entries"
            )
            run_import(self, dataset=dataset, records=records, problems=problems, label=folder.name)
        finish_import(self, embed=embed)
