from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class WorkdaysConfig(AppConfig):
    name = "workdays"
    verbose_name = "工作日历"

    def ready(self) -> None:
        from .calendar import forget_overrides
        from .models import CalendarDay

        post_save.connect(forget_overrides, sender=CalendarDay, dispatch_uid="workdays-forget-save")
        post_delete.connect(forget_overrides, sender=CalendarDay, dispatch_uid="workdays-forget-delete")
