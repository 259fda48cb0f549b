"""The restore drill (issue 13): back up a running SQLite database and its media, empty both,
restore into the empty database, and find every case, event and file again, byte for byte."""

import hashlib
import shutil

import pytest
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.db import connection

from cases.models import Case, CaseEvent, CasePart, CasePhoto
from cases.services import accept_case, dispatch_case, handle_part, report_case
from cases.tests.conftest import jpeg
from org import backup
from org.audit import Actor
from org.models import User


def actor(user):
    return Actor(user=user, ip="10.0.0.1", via="web")


def snapshot():
    files = {}
    for photo in CasePhoto.objects.all():
        for name in (photo.original.name, photo.image.name, photo.thumbnail.name):
            with default_storage.open(name) as handle:
                files[name] = hashlib.sha256(handle.read()).hexdigest()
    return {
        "cases": sorted(Case.objects.values_list("number", "status", "description")),
        "events": sorted(CaseEvent.objects.values_list("pk", "case__number", "action", "at")),
        "parts": sorted(CasePart.objects.values_list("pk", "unit_id", "status")),
        "people": sorted(User.objects.values_list("username", flat=True)),
        "files": files,
    }


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_backup_then_restore_into_an_empty_database_finds_everything(world, tmp_path, settings):
    w = world
    for i in range(3):
        case = report_case(
            actor(w.collector),
            category=w.road,
            description=f"井盖缺失 {i}",
            lat=w.in_grid[0],
            lng=w.in_grid[1],
            photos_uploaded=[jpeg(exif_gps=True), jpeg()],
        )
        if i:
            case = dispatch_case(actor(w.dispatcher), accept_case(actor(w.dispatcher), case), w.dept)
        if i == 2:
            handle_part(actor(w.handler), case, [jpeg()])
    before = snapshot()
    assert len(before["cases"]) == 3 and len(before["files"]) == 21

    call_command("backup", str(tmp_path / "backup"))
    dump = "db.sqlite3" if connection.vendor == "sqlite" else "db.dump"
    assert (tmp_path / "backup" / dump).is_file()
    with pytest.raises(CommandError, match="not empty"):
        call_command("backup", str(tmp_path / "backup"))

    # A lost server: nothing in the database, no media.
    call_command("flush", interactive=False, verbosity=0)
    shutil.rmtree(settings.MEDIA_ROOT)
    assert not Case.objects.exists() and not User.objects.exists()

    call_command("restore", str(tmp_path / "backup"))
    assert snapshot() == before

    # A second restore over the restored data is refused unless forced.
    with pytest.raises(CommandError, match="already holds"):
        call_command("restore", str(tmp_path / "backup"))


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_restore_reports_a_missing_file(world, tmp_path):
    w = world
    report_case(
        actor(w.collector),
        category=w.road,
        description="井盖",
        lat=w.in_grid[0],
        lng=w.in_grid[1],
        photos_uploaded=[jpeg()],
    )
    call_command("backup", str(tmp_path / "b"))
    photo = CasePhoto.objects.get()
    (tmp_path / "b" / "media" / photo.thumbnail.name).unlink()
    call_command("flush", interactive=False, verbosity=0)
    default_storage.delete(photo.thumbnail.name)
    with pytest.raises(CommandError, match="1 files the database names are missing"):
        call_command("restore", str(tmp_path / "b"))


def test_postgresql_tools_get_the_connection_from_settings(monkeypatch):
    monkeypatch.setattr(backup.shutil, "which", lambda name: f"/usr/bin/{name}")
    argv, env = backup.pg_command(
        "pg_dump",
        {"NAME": "chuangwen", "HOST": "db", "PORT": 5432, "USER": "cw", "PASSWORD": "s3cret"},
        "--format=custom",
    )
    assert argv == ["/usr/bin/pg_dump", "--format=custom", "--dbname", "chuangwen"]
    assert (env["PGHOST"], env["PGPORT"], env["PGUSER"], env["PGPASSWORD"]) == ("db", "5432", "cw", "s3cret")
    assert "s3cret" not in " ".join(argv)
