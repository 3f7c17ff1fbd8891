from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from apps.operations.backup import BackupError, backup_create


class Command(BaseCommand):
    help = (
        "Back up the database (pg_dump) and the media files into one tar archive with a manifest of "
        "SHA-256 hashes. PATH is the archive, or a folder to write a dated archive in."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)

    def handle(self, *args, path: Path, **options):
        try:
            summary = backup_create(path=path)
        except (BackupError, OSError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"backup written: {summary.path} ({summary.bytes / 2**20:.1f} MiB: "
                f"{sum(summary.rows.values())} rows in {len(summary.rows)} tables, {summary.files} media "
                f"files) in {summary.seconds:.1f} s"
            )
        )
