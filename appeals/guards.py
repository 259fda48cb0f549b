"""The rule that a clerk-entered appeal is closed only after the call-back (回访) is recorded.

The case loop does not know about appeals (``cases`` may not import ``appeals``), so the rule is
checked when a case row is saved as closed: raising ``ActionRefused`` inside the closing
transaction refuses the step and changes nothing, whichever page, API or command closed it.
"""

from django.db.models.signals import pre_save
from django.dispatch import receiver

from cases.models import Case
from org.errors import ActionRefused

from .models import Appeal


@receiver(pre_save, sender=Case, dispatch_uid="appeals.follow_up_before_closing")
def follow_up_before_closing(sender, instance: Case, **kwargs) -> None:
    if instance.pk is None or instance.status != Case.Status.CLOSED:
        return
    waiting = (
        Appeal.objects.filter(
            case_id=instance.pk, channel__in=Appeal.CLERK_CHANNELS, followed_up_at__isnull=True
        )
        .exclude(case__status=Case.Status.CLOSED)
        .exists()
    )
    if waiting:
        raise ActionRefused("该诉求由坐席录入，请先回访（向群众答复办理结果）并记录，再结案")
