from django.db import models


class CalendarDay(models.Model):
    """工作日历调整: a day whose working status overrides the official calendar.

    Used for years the ``chinese-calendar`` package does not know yet (the State Council publishes
    each year's holidays and 调休 working days in the autumn before), and for local decisions.
    """

    date = models.DateField("日期", unique=True)
    is_workday = models.BooleanField("是否工作日")
    name = models.CharField("说明", max_length=50, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "工作日历调整"
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {'上班' if self.is_workday else '休息'} {self.name}"
