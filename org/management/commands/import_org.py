from django.core.management.base import BaseCommand, CommandError

from org import xlsx
from org.audit import Actor


class Command(BaseCommand):
    help = "Import regions, units and people from an XLSX workbook (the export layout). All or nothing."

    def add_arguments(self, parser):
        parser.add_argument("file", help="the .xlsx workbook")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="check the file and report what would be created, changed and left alone; write nothing",
        )

    def handle(self, *args, **options):
        try:
            with open(options["file"], "rb") as handle:
                result = xlsx.import_workbook(Actor.system(), handle, dry_run=options["dry_run"])
        except OSError as exc:
            raise CommandError(f"cannot read {options['file']}: {exc.strerror}") from exc
        if not result.ok:
            for error in result.errors:
                self.stderr.write(str(error))
            raise CommandError(f"{len(result.errors)} error(s); nothing was imported")
        for warning in result.warnings:
            self.stderr.write(f"提示 warning: {warning}")
        for sheet, created, changed, unchanged in result.change_rows:
            self.stdout.write(
                f"{sheet}: 新增 created {created}, 变更 changed {changed}, 不变 unchanged {unchanged}"
            )
        if options["dry_run"]:
            self.stdout.write(self.style.WARNING("预览 dry run: nothing was written"))
        else:
            self.stdout.write(self.style.SUCCESS(f"导入成功 imported: {result.summary()}"))
