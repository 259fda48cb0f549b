"""``schedule_changed``: sent by ``workdays.services`` inside the transaction that enters a year's
holidays or new working hours, with the ``actor`` (``org.audit.Actor``) and a ``reason``.

The calendar does not know who counts deadlines on it (the layers point down): the apps that
store deadlines receive this signal and count theirs again. ``cases`` enqueues a background task
after the commit that recounts the open parts (``cases.tasks``).
"""

from django.dispatch import Signal

schedule_changed = Signal()
