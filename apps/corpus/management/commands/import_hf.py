import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.text import slugify
from tqdm import tqdm

from apps.corpus.hf_import import import_hf, roco_metadata
from apps.corpus.management.importing import add_embed_argument, finish_import, write_summary
from apps.corpus.services import dataset_get_or_create
from apps.corpus.sources.hf import Columns, SourceError
from apps.corpus.sources.roco import ROCO_DATASET
from apps.corpus.sources.rocov2 import ROCOV2_DATASET


class Command(BaseCommand):
    help = (
        "Import a Hugging Face image–caption dataset in parquet shards "
        "(data/{split}-NNNNN-of-NNNNN.parquet): a hub id such as mdwiratathya/ROCO-radiology, "
        "downloaded one shard at a time into the huggingface_hub cache, or a local folder in that layout. "
        "Resumes an interrupted import."
    )

    def add_arguments(self, parser):
        add_embed_argument(parser)
        parser.add_argument("source", help="hub dataset id (org/name) or a local folder")
        parser.add_argument("--split", default="train", help="train, validation or test (default train)")
        parser.add_argument(
            "--metadata",
            type=Path,
            help="ROCO's metadata files (a ROCO checkout, its data/ folder or one split folder): licence, "
            "PMC article, keywords, CUIs and semantic types are joined by ROCO id",
        )
        parser.add_argument("--limit", type=int, help="import only the first N rows of the split")
        parser.add_argument("--image-column", default="image")
        parser.add_argument("--id-column", default="image_id")
        parser.add_argument("--caption-column", default="caption")
        parser.add_argument(
            "--cui-column", help="a list of UMLS CUIs (default: 'cui' for ROCOv2 datasets, else none)"
        )
        parser.add_argument(
            "--into",
            help="MIRAGE dataset to store into (default: 'roco' for ROCO datasets, so entries imported "
            "by import_roco are completed, 'rocov2' for ROCOv2, else the dataset's name)",
        )
        parser.add_argument("--batch-size", type=int, default=200, help="rows per committed batch")
        parser.add_argument("--offline", action="store_true", help="use only the huggingface_hub cache")

    def handle(self, *args, source, split, metadata, limit, into, batch_size, offline, embed, **options):
        from huggingface_hub import constants

        if limit is not None and limit < 1:
            raise CommandError("--limit must be at least 1.")
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        lowered = source.lower().replace("-", "").replace("_", "")
        is_rocov2 = "rocov2" in lowered
        columns = Columns(
            image=options["image_column"],
            id=options["id_column"],
            caption=options["caption_column"],
            cuis=options["cui_column"] or ("cui" if is_rocov2 else None),
        )
        joined = None
        if metadata is not None:
            try:
                joined = roco_metadata(metadata, split=split)
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(
                f"ROCO metadata: {len(joined.entries)} entries from "
                f"{', '.join(str(f) for f in joined.folders)}"
                + (f" ({len(joined.problems)} lines could not be read)" if joined.problems else "")
            )
        if into:
            target = dataset_get_or_create(slug=slugify(into)[:64], name=into)
        elif is_rocov2:
            target = dataset_get_or_create(**ROCOV2_DATASET)
        elif "roco" in lowered or joined is not None:
            target = dataset_get_or_create(**ROCO_DATASET)
        else:
            name = Path(source).name or source
            target = dataset_get_or_create(slug=slugify(name)[:64] or "hf", name=name)

        # The platform keeps the hub switched off (HF_HUB_OFFLINE); like `models pull`, this command
        # lifts that for its own process unless --offline. The cache is used when the hub is unreachable.
        was_offline = constants.HF_HUB_OFFLINE
        constants.HF_HUB_OFFLINE = offline
        bar = tqdm(total=limit, desc=f"{source} {split}", unit="row", disable=None, file=sys.stderr)

        def on_shard(number: int, count: int, name: str, rows: int) -> None:
            bar.write(f"shard {number}/{count}: {name} ({rows} rows)", file=sys.stderr)

        try:
            result = import_hf(
                dataset=target,
                source=source,
                split=split,
                columns=columns,
                metadata=joined,
                limit=limit,
                batch_rows=batch_size,
                on_shard=on_shard,
                on_progress=bar.update,
            )
        except SourceError as exc:
            raise CommandError(str(exc)) from exc
        finally:
            bar.close()
            constants.HF_HUB_OFFLINE = was_offline
        if result.resumed_at:
            self.stdout.write(f"resumed an interrupted import at {result.resumed_at}")
        self.stdout.write(f"{source} {split}: {result.shards} shard(s) into dataset {target.slug!r}")
        write_summary(self, result.summary)
        if joined is None:
            self.stdout.write(
                "no --metadata: licences are not recorded (treated as not openly licensed); keywords, "
                "CUIs and source articles are empty until ROCO's metadata is joined"
            )
        elif result.unjoined:
            shown = ", ".join(result.unjoined[:10])
            more = f" and {len(result.unjoined) - 10} more" if len(result.unjoined) > 10 else ""
            self.stdout.write(
                self.style.WARNING(
                    f"{len(result.unjoined)} rows are not in the ROCO metadata (licence not recorded): "
                    f"{shown}{more}"
                )
            )
        finish_import(self, embed=embed)
