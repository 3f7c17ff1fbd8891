from django.core.management.base import BaseCommand

from apps.corpus.spaces import CLIP, configured_spaces
from apps.ml.encoders import check_encoder


class Command(BaseCommand):
    help = (
        "Model status: `models check` loads each configured model and says what is used when one is missing."
    )

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["check"])

    def handle(self, *args, action: str, **options):
        for name, config in configured_spaces().items():
            status = check_encoder(config.model)
            if status.ok:
                self.stdout.write(
                    self.style.SUCCESS(f"{name}: {config.model} — loads here, {status.dim}-d ({status.kind})")
                )
                continue
            instead = (
                "search runs on the caption space and full text"
                if name == CLIP
                else "search runs on full text (and the CLIP space when available)"
            )
            self.stdout.write(self.style.WARNING(f"{name}: {config.model} — unavailable: {status.error}"))
            self.stdout.write(f"    instead: {instead}")
