from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = "问题案件"

    def ready(self) -> None:
        from workdays.signals import schedule_changed

        from . import geo  # noqa: F401  (connects the boundary-cache signals)
        from .tasks import schedule_changed_received

        schedule_changed.connect(schedule_changed_received, dispatch_uid="cases-recompute-deadlines")
