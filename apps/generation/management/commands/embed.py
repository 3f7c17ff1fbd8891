"""`manage.py embed`: in the foreground here, or queued (--queue) for the GPU worker as a job.

It lives with the jobs (apps.generation) because queueing needs them; the work is the corpus's
`embed_space`, the same in both cases."""

import functools
import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from apps.corpus.embeddings import SpaceModelMismatch, embed_estimate, embed_space
from apps.corpus.spaces import configured_spaces
from apps.generation.services import JobError, embedding_submit
from apps.ml.specs import ModelUnavailable

# Longer than this on a CPU, and the command asks for --yes (or a GPU); the sample corpus stays well under.
CONFIRM_OVER_SECONDS = 10 * 60


def duration(seconds: float) -> str:
    minutes = round(seconds / 60)
    if minutes < 1:
        return f"{seconds:.0f} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


class Command(BaseCommand):
    help = (
        "Embed every image lacking a vector in a space (resumable), then build the space's HNSW index. "
        "Images are decoded by loader processes and encoded in batches sized to the device (fp16 on a "
        "GPU). On a CPU the time is measured first; a run over 10 minutes needs --yes."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--space", action="append", choices=sorted(configured_spaces()), help="default: all"
        )
        parser.add_argument("--rebuild", action="store_true", help="drop the space's vectors first")
        parser.add_argument("--batch-size", type=int, help="default: sized to the device")
        parser.add_argument("--workers", type=int, help="image loader processes (default: cores − 1, ≤ 8)")
        parser.add_argument("--yes", action="store_true", help="go on even when it will take long on a CPU")
        parser.add_argument(
            "--if-available", action="store_true", help="skip a space whose model cannot be loaded here"
        )
        parser.add_argument(
            "--queue",
            metavar="STAFF_USERNAME",
            help="queue it for the GPU worker as a job of this staff user, who can watch it on its job page",
        )

    def handle(self, *args, space, rebuild, batch_size, workers, yes, if_available, queue, **options):
        if batch_size is not None and batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        spaces = configured_spaces()
        if queue:
            self.queue(queue, names=space or sorted(spaces), rebuild=rebuild, batch_size=batch_size)
            return
        for name in space or sorted(spaces):
            config = spaces[name]
            try:
                if not rebuild and not self.confirmed(config, yes=yes, if_available=if_available):
                    continue
                bar = tqdm(desc=f"embed {name}", unit="image", disable=None, file=sys.stderr, smoothing=0.1)
                try:
                    summary = embed_space(
                        config=config,
                        batch_size=batch_size,
                        rebuild=rebuild,
                        loader_workers=workers,
                        on_start=functools.partial(setattr, bar, "total"),
                        on_progress=bar.update,
                    )
                finally:
                    bar.close()
            except ModelUnavailable as exc:
                if if_available:
                    self.stdout.write(self.style.WARNING(f"{name}: skipped — {exc}"))
                    continue
                raise CommandError(f"{name}: {exc}") from exc
            except SpaceModelMismatch as exc:
                raise CommandError(str(exc)) from exc
            index = "index built" if summary.index_built else "index up to date"
            self.stdout.write(
                self.style.SUCCESS(f"{name}: embedded {summary.embedded}, failed {summary.failed}; {index}")
            )

    def queue(self, username: str, *, names: list[str], rebuild: bool, batch_size: int | None) -> None:
        from django.contrib.auth import get_user_model
        from django.urls import reverse

        owner = get_user_model().objects.filter(username=username).first()
        if owner is None:
            raise CommandError(f"No user {username!r}; --queue takes a staff user's name.")
        for name in names:
            try:
                job = embedding_submit(owner=owner, space=name, rebuild=rebuild, batch_size=batch_size)
            except JobError as exc:
                raise CommandError(str(exc)) from exc
            page = reverse("generation:job", args=[job.pk])
            self.stdout.write(self.style.SUCCESS(f"{name}: queued as job {job.pk}; watch it at {page}"))

    def confirmed(self, config, *, yes: bool, if_available: bool) -> bool:
        """Measure the time on a CPU, say it, and ask for --yes when it is long."""
        estimate = embed_estimate(config=config)
        if estimate.seconds is None:
            return True
        self.stdout.write(
            f"{config.name}: {estimate.todo} to embed on {estimate.device}; measured "
            f"{estimate.seconds_per_item:.3f} s each here, so about {duration(estimate.seconds)}"
        )
        if estimate.seconds <= CONFIRM_OVER_SECONDS or yes:
            return True
        advice = (
            f"run `manage.py embed --space {config.name} --yes` to go on here (it resumes where it "
            "stops), or run it on a machine with a GPU"
        )
        if if_available:
            self.stdout.write(self.style.WARNING(f"{config.name}: not embedded now — {advice}"))
            return False
        raise CommandError(f"{config.name}: that is longer than {duration(CONFIRM_OVER_SECONDS)}; {advice}.")
