from django.core.management.base import BaseCommand, CommandError

from apps.core.errors import UserError
from apps.operations.media import media_check, media_remove_orphans

SHOWN = 50


class Command(BaseCommand):
    help = (
        "media check: list files under MEDIA_ROOT that no row names, and rows naming a missing file "
        "(every FileField of every model). --fix removes the files without rows, never rows."
    )

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["check"])
        parser.add_argument("--fix", action="store_true", help="remove files that no row names")

    def handle(self, *args, action: str, fix: bool, **options):
        try:
            report = media_check()
        except UserError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"{report.files} files, {report.referenced} named by rows")
        self.stdout.write(f"{len(report.orphans)} files without rows")
        for name in report.orphans[:SHOWN]:
            self.stdout.write(f"  {name}")
        if len(report.orphans) > SHOWN:
            self.stdout.write(f"  … and {len(report.orphans) - SHOWN} more")
        self.stdout.write(f"{len(report.missing)} rows without files")
        for missing in report.missing[:SHOWN]:
            self.stdout.write(f"  {missing}")
        if len(report.missing) > SHOWN:
            self.stdout.write(f"  … and {len(report.missing) - SHOWN} more")
        if fix and report.orphans:
            removed = media_remove_orphans(orphans=report.orphans)
            self.stdout.write(self.style.SUCCESS(f"removed {removed} files without rows"))
        if report.missing:
            self.stdout.write(
                self.style.WARNING(
                    "Rows without files are kept: re-run the import that made them (it restores their "
                    "files) or restore a backup."
                )
            )
        if report.missing or (report.orphans and not fix):
            raise CommandError("media and rows disagree (see above)")
