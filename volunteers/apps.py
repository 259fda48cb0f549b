from django.apps import AppConfig


class VolunteersConfig(AppConfig):
    name = "volunteers"
    verbose_name = "新时代文明实践"

    def ready(self) -> None:
        from org import imports

        from . import access, xlsx

        imports.register(
            imports.Importer(
                kind="volunteers",
                label="志愿者名册",
                run=xlsx.import_job,
                may_import=access.is_hq,
                previews=False,
                back_url="volunteers:volunteer_list",
            )
        )
