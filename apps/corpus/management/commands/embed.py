import functools
import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from apps.corpus.embeddings import SpaceModelMismatch, embed_space
from apps.corpus.spaces import configured_spaces
from apps.ml.specs import ModelUnavailable


class Command(BaseCommand):
    help = "Embed every image lacking a vector in a space (resumable), then build the space's HNSW index."

    def add_arguments(self, parser):
        parser.add_argument(
            "--space", action="append", choices=sorted(configured_spaces()), help="default: all"
        )
        parser.add_argument("--rebuild", action="store_true", help="drop the space's vectors first")
        parser.add_argument("--batch-size", type=int, default=64)
        parser.add_argument(
            "--if-available", action="store_true", help="skip a space whose model cannot be loaded here"
        )

    def handle(self, *args, space, rebuild, batch_size, if_available, **options):
        spaces = configured_spaces()
        for name in space or sorted(spaces):
            config = spaces[name]
            bar = tqdm(desc=f"embed {name}", unit="image", disable=None, file=sys.stderr)
            try:
                summary = embed_space(
                    config=config,
                    batch_size=batch_size,
                    rebuild=rebuild,
                    on_start=functools.partial(setattr, bar, "total"),
                    on_progress=bar.update,
                )
            except ModelUnavailable as exc:
                if if_available:
                    self.stdout.write(self.style.WARNING(f"{name}: skipped — {exc}"))
                    continue
                raise CommandError(f"{name}: {exc}") from exc
            except SpaceModelMismatch as exc:
                raise CommandError(str(exc)) from exc
            finally:
                bar.close()
            index = "index built" if summary.index_built else "index up to date"
            self.stdout.write(
                self.style.SUCCESS(f"{name}: embedded {summary.embedded}, failed {summary.failed}; {index}")
            )
