from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from apps.operations.backup import BackupError, backup_restore


class Command(BaseCommand):
    help = (
        "Restore a backup made by `manage.py backup`: every file is checked against the manifest first, "
        "then the database and the media folder are replaced. Stop the web server and worker first."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument(
            "--replace", action="store_true", help="replace a database that already holds images or users"
        )

    def handle(self, *args, path: Path, replace: bool, **options):
        try:
            summary = backup_restore(path=path, replace=replace)
        except (BackupError, OSError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"restored {path}: {sum(summary.rows.values())} rows in {len(summary.rows)} tables and "
                f"{summary.files} media files, all matching the manifest, in {summary.seconds:.1f} s"
            )
        )
