"""The project's list of periodic jobs (``NOTICES_SCHEDULE``): names unique, and each job runs on
an empty district without error through ``run_job``, as the worker would run it."""

import pytest
from django.core.management import call_command

from notices import schedule
from notices.models import JobRun

pytestmark = pytest.mark.django_db


def test_every_project_job_runs_once_by_name():
    names = [j.name for j in schedule.jobs()]
    assert len(names) == len(set(names)) >= 5
    for name in names:
        call_command("run_job", name)
    assert set(JobRun.objects.values_list("job", flat=True)) == set(names)
    assert all(JobRun.objects.values_list("ok", flat=True)), list(JobRun.objects.values_list("job", "detail"))
