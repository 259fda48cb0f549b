"""The upward report package: folders per item and unit, the manifest matching the files."""

import tempfile
import zipfile
from decimal import Decimal

import openpyxl

from materials import package, services
from materials.models import Submission

from .conftest import MONTH, docx_bytes, photo, upload


def _accept(world, sub, uploads, text, score):
    clerk = world.actor(world.clerk if sub.unit == world.c1 else world.clerk2)
    services.add_files(clerk, sub, uploads)
    sub = services.submit(clerk, sub, text)
    return services.score_submission(world.actor(world.inspector), sub, score)


def test_manifest_matches_the_files(world):
    spec = services.Spec(
        title="=1+1 理论学习",
        points=Decimal(6),
        reviewer=world.inspector,
        min_photos=1,
        criterion=world.monthly,
    )
    by_criterion = services.create_requirement(world.actor(world.hq), MONTH, spec, [world.c1, world.c2])
    by_hand = world.requirement(title="志愿服务台账")
    a = _accept(
        world,
        by_criterion.submissions.get(unit=world.c1),
        [photo("现场.png"), photo("现场.png"), upload("纪要.docx", docx_bytes())],
        "学习两次",
        5,
    )
    _accept(world, by_criterion.submissions.get(unit=world.c2), [photo()], "学习一次", Decimal("4.5"))
    # Not accepted: left out.
    services.add_files(world.actor(world.clerk), by_hand.submissions.get(unit=world.c1), [photo()])

    with tempfile.TemporaryFile() as out:
        count = package.build(MONTH, out)
        out.seek(0)
        with zipfile.ZipFile(out) as archive:
            names = set(archive.namelist()) - {package.MANIFEST}
            with archive.open(package.MANIFEST) as manifest:
                sheet = openpyxl.load_workbook(manifest).active
                rows = list(sheet.iter_rows(values_only=True))
                title_cell = sheet.cell(row=2, column=package.COLUMNS.index("资料名称") + 1)
            folder = "A01 理论学习/S1C1 一社区居委会/=1+1 理论学习"
            assert archive.read(f"{folder}/{package.TEXT_NAME}").decode() == "学习两次"
            stored = a.files.get(name="纪要.docx")
            with stored.file.open("rb") as handle:
                assert archive.read(f"{folder}/纪要.docx") == handle.read()
    assert rows[0] == tuple(package.COLUMNS)
    assert {row[0] for row in rows[1:]} == names and len(rows) - 1 == len(names) == count == 6
    assert {f"{folder}/现场.jpg", f"{folder}/现场-2.jpg"} <= names
    assert not any("志愿服务台账" in n for n in names)
    assert title_cell.value == "=1+1 理论学习" and title_cell.data_type == "s"
    scores = {row[4]: row[8] for row in rows[1:]}
    assert scores == {"S1C1": 5, "S2C1": 4.5}
    assert Submission.objects.filter(state=Submission.State.ACCEPTED).count() == 2


def test_empty_month_has_only_the_manifest(world):
    with tempfile.TemporaryFile() as out:
        assert package.build(MONTH, out) == 0
        out.seek(0)
        with zipfile.ZipFile(out) as archive:
            assert archive.namelist() == [package.MANIFEST]
