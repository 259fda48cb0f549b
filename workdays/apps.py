from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class WorkdaysConfig(AppConfig):
    name = "workdays"
    verbose_name = "工作日历"

    def ready(self) -> None:
        from .calendar import forget_overrides
        from .models import CalendarDay, HolidayYear, WorkSchedule

        for model in (CalendarDay, HolidayYear, WorkSchedule):
            label = model._meta.model_name
            post_save.connect(forget_overrides, sender=model, dispatch_uid=f"workdays-forget-save-{label}")
            post_delete.connect(
                forget_overrides, sender=model, dispatch_uid=f"workdays-forget-delete-{label}"
            )
