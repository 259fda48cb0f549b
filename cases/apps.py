from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = "问题案件"

    def ready(self) -> None:
        from . import geo  # noqa: F401  (connects the boundary-cache signals)
