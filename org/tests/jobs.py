"""Driving a background import from a page in tests: upload, run the worker's task, read the job's
page (as the browser does once the job is done)."""

from django.test import Client

from org.imports import run_import
from org.models import ImportJob


def run_jobs() -> None:
    """What the worker does: run every queued import job."""
    for pk in ImportJob.objects.filter(state=ImportJob.State.QUEUED).values_list("pk", flat=True):
        run_import.call(pk)


def upload(client: Client, url: str, file):
    """Post the file to an import page; when a job started, run it and return its page."""
    response = client.post(url, {"file": file})
    if response.status_code != 302 or "/org/import/jobs/" not in response["Location"]:
        return response
    run_jobs()
    return client.get(response["Location"])


def confirm(client: Client, job_page):
    """Confirm the preview shown on a job's page; run the import; return the import job's page."""
    response = client.post(job_page.wsgi_request.path)
    run_jobs()
    return client.get(response["Location"], follow=True)
