from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from org import backup


class Command(BaseCommand):
    help = (
        "Restore a backup folder written by `backup` into the configured (empty) database and the "
        "media folder, then check that every file the restored rows name is there."
    )

    def add_arguments(self, parser):
        parser.add_argument("folder", help="the backup folder")
        parser.add_argument("--database", default="default", help="database alias (default: default)")
        parser.add_argument("--skip-media", action="store_true", help="database only")
        parser.add_argument(
            "--force", action="store_true", help="overwrite a database that already holds people or cases"
        )

    def handle(self, *args, **options):
        try:
            report = backup.restore(
                Path(options["folder"]),
                options["database"],
                media=not options["skip_media"],
                force=options["force"],
            )
        except (backup.BackupError, OSError) as exc:
            raise CommandError(str(exc)) from exc
        if report.missing:
            for name in report.missing:
                self.stderr.write(f"missing or changed after restore: {name}")
            raise CommandError(f"{len(report.missing)} files the database names are missing")
        self.stdout.write(
            self.style.SUCCESS(f"restored {report.database} and {report.files} files ({report.bytes} bytes)")
        )
