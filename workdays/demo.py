"""Demo working hours 作息时间: winter 08:30–12:00, 14:00–17:30 and summer (1 May – 30 Sep)
08:30–12:00, 14:30–18:00, in force since 2024, so that demo deadlines cross the seasons."""

import datetime as dt

from .calendar import forget_overrides
from .models import WorkSchedule


def load() -> None:
    WorkSchedule.objects.get_or_create(
        valid_from=dt.date(2024, 1, 1),
        defaults={
            "name": "冬夏作息",
            "morning_start": dt.time(8, 30),
            "morning_end": dt.time(12),
            "afternoon_start": dt.time(14),
            "afternoon_end": dt.time(17, 30),
            "summer_from": "05-01",
            "summer_until": "09-30",
            "summer_morning_start": dt.time(8, 30),
            "summer_morning_end": dt.time(12),
            "summer_afternoon_start": dt.time(14, 30),
            "summer_afternoon_end": dt.time(18),
        },
    )
    forget_overrides()
