from django.core.management.base import BaseCommand, CommandError

from org import xlsx
from org.audit import Actor


class Command(BaseCommand):
    help = "Export regions, units and people to an XLSX workbook that import_org reads back unchanged."

    def add_arguments(self, parser):
        parser.add_argument("file", help="where to write the .xlsx workbook")

    def handle(self, *args, **options):
        content = xlsx.export_workbook(Actor.system()).getvalue()
        try:
            with open(options["file"], "wb") as handle:
                handle.write(content)
        except OSError as exc:
            raise CommandError(f"cannot write {options['file']}: {exc.strerror}") from exc
        self.stdout.write(self.style.SUCCESS(f"exported to {options['file']}"))
