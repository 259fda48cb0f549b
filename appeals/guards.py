"""The rule that a clerk-entered appeal is closed only after the call-back (回访) is recorded.

``cases`` does not know about appeals, so the rule is a close guard registered with
``cases.services.register_close_guard`` (in ``AppealsConfig.ready``): ``verify_case`` calls it with
the locked case inside its transaction, and the ``ActionRefused`` it raises refuses the step.
"""

from cases.models import Case
from org.errors import ActionRefused

from .models import Appeal


def follow_up_before_closing(case: Case) -> None:
    waiting = Appeal.objects.filter(
        case_id=case.pk, channel__in=Appeal.CLERK_CHANNELS, followed_up_at__isnull=True
    ).exists()
    if waiting:
        raise ActionRefused("该诉求由坐席录入，请先回访（向群众答复办理结果）并记录，再结案")
