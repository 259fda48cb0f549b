"""Photo files that no row names (a worker killed mid-step leaves them; the fault drill in
bench/faults.py found three) are removed by the nightly sweep once they are an hour old; files of
rows, and younger files of steps that may still be running, stay."""

import os
import time

from django.core.files.storage import default_storage

from cases import photos
from cases.services import report_case
from cases.tests.conftest import actor, jpeg


def test_the_sweep_removes_old_files_no_row_names_and_keeps_the_rest(world):
    lat, lng = world.in_grid
    case = report_case(
        actor(world.collector),
        category=world.road,
        description="井盖缺失",
        lat=lat,
        lng=lng,
        photos_uploaded=[jpeg()],
    )
    kept = case.photos.get()
    # What a killed worker leaves: the three files of a photo whose row was never committed.
    orphan = photos.store_files(photos.validate(jpeg()), "cases")
    young = photos.store_files(photos.validate(jpeg()), "cases")
    two_hours_ago = time.time() - 2 * 3600
    for name in (orphan.original, orphan.image, orphan.thumbnail, kept.original.name, kept.image.name):
        os.utime(default_storage.path(name), (two_hours_ago, two_hours_ago))

    removed = photos.sweep_orphans()

    assert sorted(removed) == sorted([orphan.original, orphan.image, orphan.thumbnail])
    assert not any(default_storage.exists(name) for name in removed)
    for name in (kept.original.name, kept.image.name, kept.thumbnail.name, young.original, young.image):
        assert default_storage.exists(name)
    assert photos.sweep_orphans() == []
