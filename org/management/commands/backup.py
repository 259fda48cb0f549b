from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from org import backup


class Command(BaseCommand):
    help = (
        "Back up the database (SQLite online backup API, or pg_dump on PostgreSQL) and then the "
        "media files into an empty folder, with a manifest of the files the database names."
    )

    def add_arguments(self, parser):
        parser.add_argument("folder", help="an empty or new folder to write the backup to")
        parser.add_argument("--database", default="default", help="database alias (default: default)")
        parser.add_argument(
            "--skip-media", action="store_true", help="database only (media in an object store)"
        )

    def handle(self, *args, **options):
        try:
            report = backup.backup(
                Path(options["folder"]), options["database"], media=not options["skip_media"]
            )
        except (backup.BackupError, OSError) as exc:
            raise CommandError(str(exc)) from exc
        for name in report.missing:
            self.stderr.write(f"missing before the backup: {name}")
        self.stdout.write(
            self.style.SUCCESS(
                f"backed up {report.database} and {report.files} files ({report.bytes} bytes) "
                f"to {options['folder']}"
            )
        )
