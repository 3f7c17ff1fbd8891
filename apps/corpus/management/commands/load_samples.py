from django.core.management.base import BaseCommand

from apps.corpus.management.importing import add_embed_argument, finish_import, run_import
from apps.corpus.samples import sample_entries
from apps.corpus.selectors import SAMPLES_SLUG
from apps.corpus.services import dataset_get_or_create


class Command(BaseCommand):
    help = "Load the sample corpus: real medical images shipped inside installed PyPI packages."

    def add_arguments(self, parser):
        add_embed_argument(parser)

    def handle(self, *args, embed: bool, **options):
        dataset = dataset_get_or_create(
            slug=SAMPLES_SLUG,
            name="MIRAGE samples",
            description=(
                "Real medical images distributed in PyPI packages (pydicom-data, scikit-image, nibabel), "
                "with captions written for MIRAGE. Each image lists its own source and licence."
            ),
        )
        run_import(self, dataset=dataset, records=sample_entries(), problems=[], label="samples")
        finish_import(self, embed=embed)
