"""`manage.py atlas build [--space NAME]`: compute the map of an embedding space now."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from apps.atlas.services import AtlasError, atlas_build
from apps.corpus.models import EmbeddingSpace


class Command(BaseCommand):
    help = "Build the 2-D map (PCA) of an embedding space's vectors for the /map/ page."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["build"])
        parser.add_argument("--space", default="", help="space name (default: every space with vectors)")

    def handle(self, *args, action: str, space: str, **options):
        spaces = EmbeddingSpace.objects.filter(name=space) if space else EmbeddingSpace.objects.all()
        if space and not spaces.exists():
            raise CommandError(f"No embedding space named {space!r}.")
        for each in spaces.order_by("name"):
            started = time.perf_counter()
            try:
                atlas = atlas_build(space=each)
            except AtlasError as exc:
                self.stderr.write(f"{each.name}: {exc}")
                continue
            self.stdout.write(
                f"{each.name}: {len(atlas.ids())} of {atlas.total} vectors mapped "
                f"in {time.perf_counter() - started:.1f} s"
            )
