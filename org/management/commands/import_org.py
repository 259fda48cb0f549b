from django.core.management.base import BaseCommand, CommandError

from org import xlsx
from org.audit import Actor


class Command(BaseCommand):
    help = "Import regions, units and people from an XLSX workbook (the export layout). All or nothing."

    def add_arguments(self, parser):
        parser.add_argument("file", help="the .xlsx workbook")

    def handle(self, *args, **options):
        try:
            with open(options["file"], "rb") as handle:
                result = xlsx.import_workbook(Actor.system(), handle)
        except OSError as exc:
            raise CommandError(f"cannot read {options['file']}: {exc.strerror}") from exc
        if not result.ok:
            for error in result.errors:
                self.stderr.write(str(error))
            raise CommandError(f"{len(result.errors)} error(s); nothing was imported")
        self.stdout.write(self.style.SUCCESS(f"导入成功 imported: {result.summary()}"))
