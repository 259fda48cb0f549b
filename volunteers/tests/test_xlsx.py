"""The register import: all or nothing, every error named by row and column, updates by number."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook

from org.audit import Actor
from org.models import AuditLog
from org.tests import jobs
from volunteers import xlsx
from volunteers.models import TeamMember, Volunteer

from .factories import id_number

pytestmark = pytest.mark.django_db


def workbook(rows, header=xlsx.COLUMNS) -> io.BytesIO:
    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    out.seek(0)
    return out


def row(n, **changes):
    values = {"number": f"N{n}", "name": f"张{n}", "id": id_number(500 + n), "phone": f"1390000{n:04d}",
              "skills": "elderly", "region": "S1C1", "time": "周末", "teams": "T1"}  # fmt: skip
    values.update(changes)
    return list(values.values())


def test_a_valid_register_creates_and_updates_with_teams(world):
    result = xlsx.import_volunteers(
        Actor.system(), workbook([row(1), row(2, teams="T1、T2"), row(3, region="")])
    )
    assert (result.created, result.updated) == (3, 0)
    two = Volunteer.objects.get(number="N2")
    assert set(two.teams.values_list("code", flat=True)) == {"T1", "T2"}
    assert two.region == world.regions["c1"] and two.user is None
    again = xlsx.import_volunteers(
        Actor.system(), workbook([row(1, name="张三丰", phone="13911112222"), row(4)])
    )
    assert (again.created, again.updated) == (1, 1)
    one = Volunteer.objects.get(number="N1")
    assert (one.name, one.phone) == ("张三丰", "13911112222")
    assert TeamMember.objects.filter(volunteer=one).count() == 1
    assert AuditLog.objects.filter(action="volunteers.import").count() == 2


def test_any_error_imports_nothing_and_each_is_named(world):
    taken = world.alice.id_number
    rows = [
        row(1, id="110105194912310021"),  # wrong check character
        row(2, phone="2345"),
        row(3, id=id_number(503)),
        row(4, id=id_number(503)),  # same ID as row 3
        row(5, id=taken),  # another volunteer's ID
        row(6, teams="T9"),
        row(7, region="NOPE"),
        row(1),  # duplicate number
        row(8, name=""),
    ]
    with pytest.raises(xlsx.ImportErrors) as exc:
        xlsx.import_volunteers(Actor.system(), workbook(rows))
    text = "\n".join(exc.value.errors)
    for expected in ("第2行 身份证号", "第3行 手机号", "第5行 身份证号：与第4行重复", "已被志愿者", "第7行 服务队编码",
                     "第8行 服务区域编码", "第9行 志愿者编号：与第2行重复", "第10行 姓名：必填"):  # fmt: skip
        assert expected in text
    assert not Volunteer.objects.filter(number__startswith="N").exists()


def test_not_a_workbook_or_missing_columns(world):
    with pytest.raises(xlsx.ImportErrors, match="XLSX"):
        xlsx.import_volunteers(Actor.system(), io.BytesIO(b"name,phone\n"))
    with pytest.raises(xlsx.ImportErrors, match="缺少列"):
        xlsx.import_volunteers(Actor.system(), workbook([], header=["志愿者编号", "姓名"]))
    with pytest.raises(xlsx.ImportErrors, match="没有志愿者数据"):
        xlsx.import_volunteers(Actor.system(), workbook([]))


def test_the_import_page_is_for_hq(client, world):
    upload = SimpleUploadedFile("v.xlsx", workbook([row(1)]).getvalue())
    client.force_login(world.station_staff)
    assert client.post(reverse("volunteers:import"), {"file": upload}).status_code == 403
    client.force_login(world.hq)
    upload.seek(0)
    # The file is imported in the background; the job's page shows the outcome.
    response = client.post(reverse("volunteers:import"), {"file": upload})
    assert response.status_code == 302 and not Volunteer.objects.filter(number="N1").exists()
    jobs.run_jobs()
    page = client.get(response["Location"]).content.decode()
    assert "导入成功" in page and "新增 1 人，更新 0 人" in page
    assert Volunteer.objects.filter(number="N1").exists()
    assert "v.xlsx" in client.get(reverse("volunteers:import")).content.decode()  # the recent jobs
    bad = SimpleUploadedFile("v.xlsx", workbook([row(2, phone="1")]).getvalue())
    page = jobs.upload(client, reverse("volunteers:import"), bad).content.decode()
    assert "第2行 手机号" in page and "未导入任何数据" in page
    assert not Volunteer.objects.filter(number="N2").exists()


def test_the_whole_file_is_checked_before_anything_is_written(world, monkeypatch):
    """Reading and checking 130,000 rows takes most of the time: it happens before the write
    transaction (on SQLite the write lock is then held for the writes alone)."""
    monkeypatch.setattr(xlsx, "BATCH", 2)
    written_while_checking = []
    check = xlsx._check_owners

    def spy(checked, error):
        written_while_checking.append(Volunteer.objects.filter(number__startswith="N").count())
        return check(checked, error)

    monkeypatch.setattr(xlsx, "_check_owners", spy)
    result = xlsx.import_volunteers(Actor.system(), workbook([row(k) for k in range(1, 6)]))
    assert result.created == 5 and written_while_checking == [0, 0, 0]


def test_an_error_in_a_later_batch_rolls_back_the_batches_already_written(world, monkeypatch):
    monkeypatch.setattr(xlsx, "BATCH", 2)
    rows = [row(1), row(2), row(3), row(4, id=world.alice.id_number), row(5)]
    with pytest.raises(xlsx.ImportErrors) as exc:
        xlsx.import_volunteers(Actor.system(), workbook(rows))
    assert exc.value.errors == [f"第5行 身份证号：已被志愿者 {world.alice.number} 使用"]
    assert not Volunteer.objects.filter(number__startswith="N").exists()
    assert not AuditLog.objects.filter(action="volunteers.import").exists()
    result = xlsx.import_volunteers(Actor.system(), workbook([row(1), row(2), row(3), row(5)]))
    assert (result.created, result.updated) == (4, 0)
    assert TeamMember.objects.filter(volunteer__number__startswith="N").count() == 4
