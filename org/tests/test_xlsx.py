"""XLSX import and export: a bad file is refused whole, with its row and column named."""

import dataclasses
import datetime as dt
import io
import zipfile

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook

from org import imports, xlsx
from org.audit import Actor
from org.models import AuditLog, ImportJob, Membership, Region, Role, Unit, User
from org.tests import jobs
from org.tests.factories import RegionFactory, UnitFactory, member, region_tree

pytestmark = pytest.mark.django_db

REGIONS = [
    ["D", "测试区", "区", ""],
    ["S1", "一街道", "街道", "D"],
    ["S1C1", "一社区", "社区", "S1"],
    ["S1C1G1", "一小组", "居民小组", "S1C1"],
]
UNITS = [
    ["U1", "一街道办事处", "一街道", "街道办事处", "S1", "0827-5261234"],
    ["U2", "区城管局", "城管局", "区级部门", "D", ""],
]
PEOPLE = [
    ["zhang", "张三", "13900000001", "U1", "责任单位处置员、网报专员"],
    ["li", "李四", "", "U2", "信息采集员/网格员"],
]


def xlsx_file(regions=None, units=None, people=None, name="org.xlsx", sheets=None) -> io.BytesIO:
    book = Workbook()
    book.remove(book.active)
    content = {
        xlsx.REGION_SHEET: (xlsx.REGION_COLUMNS, REGIONS if regions is None else regions),
        xlsx.UNIT_SHEET: (xlsx.UNIT_COLUMNS, UNITS if units is None else units),
        xlsx.PEOPLE_SHEET: (xlsx.PEOPLE_COLUMNS, PEOPLE if people is None else people),
    }
    for title in sheets if sheets is not None else content:
        columns, rows = content[title]
        sheet = book.create_sheet(title)
        sheet.append(columns)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    out.seek(0)
    out.name = name
    return out


def snapshot() -> tuple:
    """Everything an import may touch."""
    return (
        sorted(Region.objects.values_list("code", "name", "level", "parent__code", "path")),
        sorted(Unit.objects.values_list("code", "name", "short_name", "kind", "region__code", "phone")),
        sorted(User.objects.values_list("username", "display_name", "phone", "password")),
        sorted(Membership.objects.values_list("user__username", "unit__code", "role")),
    )


def hq_actor() -> Actor:
    hq = member(UnitFactory(code="HQ", kind=Unit.Kind.HQ), Role.HQ_ADMIN, username="hq")
    return Actor(user=hq, ip="10.1.2.3", via="web")


def refused(file, *expected: tuple[str, int, str]) -> list[str]:
    """Imports ``file``, asserts it is refused with these (sheet, row, column letter) errors and
    changes nothing; returns the messages."""
    actor = hq_actor()
    before = snapshot()
    audit_before = AuditLog.objects.count()
    result = xlsx.import_workbook(actor, file)
    assert not result.ok
    got = {(e.sheet, e.row, e.column[:1]) for e in result.errors}
    for sheet, row, column in expected:
        assert (sheet, row, column) in got, (sheet, row, column, [str(e) for e in result.errors])
    assert snapshot() == before
    assert AuditLog.objects.count() == audit_before
    return [e.message for e in result.errors]


def test_a_good_file_imports_regions_units_and_people():
    actor = hq_actor()
    result = xlsx.import_workbook(actor, xlsx_file())
    assert result.ok, [str(e) for e in result.errors]
    assert result.counts == {"区域": 4, "单位": 2, "人员": 2}
    group = Region.objects.get(code="S1C1G1")
    assert group.path == "/D/S1/S1C1/S1C1G1/"
    assert group.level == Region.Level.GROUP
    unit = Unit.objects.get(code="U1")
    assert (unit.kind, unit.region.code, unit.phone) == (Unit.Kind.STREET_OFFICE, "S1", "0827-5261234")
    assert set(Membership.objects.filter(user__username="zhang").values_list("role", flat=True)) == {
        Role.HANDLER,
        Role.REPORT_CLERK,
    }
    assert not User.objects.get(username="zhang").has_usable_password()
    entry = AuditLog.objects.get(action="org.import")
    assert (entry.actor, entry.ip, entry.via) == (actor.user, "10.1.2.3", "web")
    assert entry.data["counts"] == result.counts
    assert entry.data["file"] == "org.xlsx"


def test_missing_parent_is_refused_and_nothing_is_imported():
    rows = [*REGIONS, ["S9C1", "九社区", "社区", "S9"]]
    messages = refused(xlsx_file(regions=rows), ("区域", 6, "D"))
    assert any("S9" in m and "不存在" in m for m in messages)


def test_duplicate_code_in_the_file_is_refused():
    rows = [*REGIONS, ["S1", "重复街道", "街道", "D"]]
    refused(xlsx_file(regions=rows), ("区域", 6, "A"))


def test_codes_differing_only_in_case_are_duplicates():
    rows = [*REGIONS, ["s1", "小写街道", "街道", "D"]]
    messages = refused(xlsx_file(regions=rows), ("区域", 6, "A"))
    assert any("不区分大小写" in m for m in messages)
    units = [*UNITS, ["u2", "又一个", "", "区级部门", "D", ""]]
    refused(xlsx_file(units=units), ("单位", 4, "A"))


def test_a_code_differing_from_an_existing_one_only_in_case_is_refused():
    RegionFactory(code="D", level=Region.Level.DISTRICT)
    rows = [["d", "测试区", "区", ""], *REGIONS[1:]]
    rows[1] = ["S1", "一街道", "街道", "d"]
    messages = refused(xlsx_file(regions=rows), ("区域", 2, "A"))
    assert any("仅大小写不同" in m for m in messages)


def test_unknown_unit_is_refused():
    people = [*PEOPLE, ["wang", "王五", "", "NOPE", "志愿者"]]
    messages = refused(xlsx_file(people=people), ("人员", 4, "D"))
    assert any("NOPE" in m for m in messages)


def test_unknown_region_of_a_unit_is_refused():
    units = [*UNITS, ["U3", "三单位", "", "区级部门", "NOWHERE", ""]]
    refused(xlsx_file(units=units), ("单位", 4, "E"))


def test_bad_role_level_and_kind_are_refused():
    people = [["zhang", "张三", "", "U1", "处置员、厨师"]]
    regions = [*REGIONS, ["X", "某地", "省", "D"]]
    units = [*UNITS, ["U3", "三单位", "", "协会", "D", ""]]
    refused(
        xlsx_file(regions=regions, units=units, people=people),
        ("人员", 2, "E"),
        ("区域", 6, "C"),
        ("单位", 4, "D"),
    )


def test_wrong_parent_level_and_cycles_are_refused():
    regions = [*REGIONS, ["S2", "二街道", "街道", "S1C1"]]
    refused(xlsx_file(regions=regions), ("区域", 6, "D"))
    cycle = [*REGIONS, ["A", "甲社区", "社区", "B"], ["B", "乙社区", "社区", "A"]]
    refused(xlsx_file(regions=cycle), ("区域", 6, "D"), ("区域", 7, "D"))


def test_bad_phone_missing_values_and_long_names_are_refused():
    units = [["U1", "一" * 101, "", "街道办事处", "S1", "12345"]]
    people = [["zhang", "", "", "U1", "志愿者"]]
    refused(
        xlsx_file(units=units, people=people),
        ("单位", 2, "B"),
        ("单位", 2, "F"),
        ("人员", 2, "B"),
    )


def test_one_person_with_two_names_is_refused():
    people = [*PEOPLE, ["zhang", "张叁", "13900000001", "U2", "志愿者"]]
    refused(xlsx_file(people=people), ("人员", 4, "B"))


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"this is a text file, not a workbook",
        b"PK\x03\x04 truncated zip",
    ],
    ids=["empty", "text", "broken-zip"],
)
def test_a_file_that_is_not_xlsx_is_refused_with_a_clear_message(content):
    upload = io.BytesIO(content)
    messages = refused(upload)
    assert messages == [xlsx.NOT_XLSX]


def test_a_zip_that_is_not_a_workbook_is_refused():
    upload = io.BytesIO()
    with zipfile.ZipFile(upload, "w") as archive:
        archive.writestr("readme.txt", "hello")
    upload.seek(0)
    assert refused(upload) == [xlsx.NOT_XLSX]


def test_a_workbook_without_data_rows_is_refused():
    messages = refused(xlsx_file(regions=[], units=[], people=[]))
    assert messages == ["文件中没有任何数据行"]


def test_a_workbook_with_missing_sheets_or_wrong_headers_is_refused():
    messages = refused(xlsx_file(sheets=[xlsx.REGION_SHEET]))
    assert sum("缺少工作表" in m for m in messages) == 2
    book = load_workbook(xlsx_file())
    book[xlsx.UNIT_SHEET]["B1"] = "单位名称"
    out = io.BytesIO()
    book.save(out)
    out.seek(0)
    assert any("表头缺少列：名称" in m for m in refused(out, ("单位", 1, "-")))


def test_codes_may_be_chinese():
    regions = [["巴州区", "巴州区", "区", ""], ["回风", "回风街道", "街道", "巴州区"]]
    units = [["回风办", "回风街道办事处", "", "街道办事处", "回风", ""]]
    people = [["张三", "张三", "", "回风办", "责任单位处置员"]]
    result = xlsx.import_workbook(hq_actor(), xlsx_file(regions, units, people))
    assert result.ok, [str(e) for e in result.errors]
    assert Region.objects.get(code="回风").path == "/巴州区/回风/"
    assert Unit.objects.get(code="回风办").region.code == "回风"


def test_codes_with_a_slash_or_space_are_refused():
    regions = [*REGIONS, ["S/2", "二街道", "街道", "D"], ["S 3", "三街道", "街道", "D"]]
    refused(xlsx_file(regions=regions), ("区域", 6, "A"), ("区域", 7, "A"))


def test_moving_a_region_rewrites_its_subtree_paths():
    tree = region_tree()
    RegionFactory(code="S1C1G1X", name="小组子", level=Region.Level.GROUP, parent=tree["c1"])
    regions = [["S1C1", "一社区", "社区", "S2"]]  # the community moves to the other street
    result = xlsx.import_workbook(hq_actor(), xlsx_file(regions=regions, units=[], people=[]))
    assert result.ok, [str(e) for e in result.errors]
    assert Region.objects.get(code="S1C1").path == "/D/S2/S1C1/"
    assert Region.objects.get(code="S1C1G1").path == "/D/S2/S1C1/S1C1G1/"
    assert Region.objects.get(code="S1C1G1X").path == "/D/S2/S1C1/S1C1G1X/"
    assert set(tree["s2"].subtree().values_list("code", flat=True)) == {
        "S2",
        "S2C1",
        "S1C1",
        "S1C1G1",
        "S1C1G1X",
    }
    assert set(Region.objects.get(code="S1").subtree().values_list("code", flat=True)) == {"S1"}


def test_saving_a_moved_region_rewrites_its_subtree_paths_too():
    """Admin edits go through Region.save(), so they keep the paths right as well."""
    tree = region_tree()
    community = tree["c1"]
    community.parent = tree["s2"]
    community.save()
    tree["district"].code = "DD"
    tree["district"].save()
    assert Region.objects.get(code="S1C1G1").path == "/DD/S2/S1C1/S1C1G1/"
    assert Region.objects.get(code="S1").path == "/DD/S1/"


def test_changing_a_level_that_no_longer_fits_the_children_is_refused():
    region_tree()
    regions = [["S1", "一街道", "社区", "D"]]  # a community cannot hold the community below it
    refused(xlsx_file(regions=regions, units=[], people=[]), ("区域", 2, "C"))


def test_export_then_import_changes_nothing():
    from org import demo

    demo.load()
    actor = hq_actor()
    before = snapshot()
    exported = xlsx.export_workbook(actor)
    exported.name = "export.xlsx"
    result = xlsx.import_workbook(actor, exported)
    assert result.ok, [str(e) for e in result.errors[:5]]
    assert result.counts["区域"] == Region.objects.count()
    assert snapshot() == before
    assert list(AuditLog.objects.order_by("at").values_list("action", flat=True)) == [
        "org.export",
        "org.import",
    ]


def test_only_hq_imports_and_exports():
    from django.core.exceptions import PermissionDenied

    tree = region_tree()
    handler = member(UnitFactory(region=tree["s1"]), Role.HANDLER)
    with pytest.raises(PermissionDenied):
        xlsx.import_workbook(Actor(user=handler), xlsx_file())
    with pytest.raises(PermissionDenied):
        xlsx.export_workbook(Actor(user=handler))
    assert not Unit.objects.filter(code="U1").exists()


def test_import_page_shows_row_errors_and_changes_nothing(client):
    actor = hq_actor()
    client.force_login(actor.user)
    before = snapshot()
    bad = xlsx_file(people=[*PEOPLE, ["wang", "王五", "", "NOPE", "志愿者"]])
    response = jobs.upload(client, "/org/import/", bad)
    assert response.status_code == 200
    body = response.content.decode()
    assert "未导入任何数据" in body
    assert "<td>4</td><td>D（单位编码）</td>" in body
    assert response.context["job"].state == ImportJob.State.FAILED and not response.context["job"].file
    assert snapshot() == before


def test_import_page_refuses_a_non_xlsx_upload_without_a_server_error(client):
    client.force_login(hq_actor().user)
    fake = io.BytesIO(b"not a workbook")
    fake.name = "org.xlsx"
    response = jobs.upload(client, "/org/import/", fake)
    assert response.status_code == 200
    assert xlsx.NOT_XLSX in response.content.decode()
    other = io.BytesIO(b"a,b\n")
    other.name = "org.csv"
    response = client.post("/org/import/", {"file": other})
    assert "请上传 .xlsx 格式的文件" in response.content.decode()


def test_import_page_previews_then_imports_on_confirmation_and_download_exports(client):
    client.force_login(hq_actor().user)
    before = snapshot()
    response = client.post("/org/import/", {"file": xlsx_file()})
    job_url = response["Location"]
    # Queued: the page shows the progress bar and asks for the state while the worker runs it.
    page = client.get(job_url).content.decode()
    assert "<progress" in page and "org/import-job.js" in page
    assert client.get(job_url + "?format=json").json()["running"] is True
    jobs.run_jobs()
    assert client.get(job_url + "?format=json").json() == {
        "state": "checked",
        "state_label": "待确认导入",
        "stage": "待确认导入",
        "progress": 100,
        "running": False,
    }
    response = client.get(job_url)
    page = response.content.decode()
    assert "导入预览" in page and "确认导入" in page and "<progress" not in page
    assert '<td>区域</td><td class="num">4</td><td class="num">0</td><td class="num">0</td>' in page
    assert snapshot() == before and not AuditLog.objects.filter(action="org.import").exists()
    response = jobs.confirm(client, response)
    assert "导入成功" in response.content.decode()
    assert Unit.objects.filter(code="U2").exists()
    assert AuditLog.objects.get(action="org.import").data["file"] == "org.xlsx"
    assert AuditLog.objects.filter(action="import.confirm").count() == 1
    response = client.post(job_url, follow=True)  # a preview imports once
    assert "该预览已确认导入" in response.content.decode()
    assert AuditLog.objects.filter(action="org.import").count() == 1
    response = client.get("/org/import/?download=1")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    codes = [row[0] for row in book[xlsx.UNIT_SHEET].iter_rows(min_row=2, values_only=True)]
    assert codes == ["HQ", "U1", "U2"]
    # The files are gone once the import ran; the page lists the recent jobs.
    assert not ImportJob.objects.exclude(file="").exists()
    assert "org.xlsx（预览）" in client.get("/org/import/").content.decode()


def test_a_preview_expires_and_its_file_goes(client):
    client.force_login(hq_actor().user)
    response = jobs.upload(client, "/org/import/", xlsx_file())
    job = response.context["job"]
    stored = job.file
    assert default_storage.exists(stored)
    later = job.finished_at + imports.CONFIRM_WITHIN + dt.timedelta(minutes=1)
    assert imports.prune(later) == "过期预览 1 个"
    assert not default_storage.exists(stored)
    response = client.post(response.wsgi_request.path, follow=True)
    assert "该任务不是待确认的预览" in response.content.decode()
    assert not Unit.objects.filter(code="U2").exists()


def test_a_job_runs_once_whatever_the_number_of_workers(client):
    client.force_login(hq_actor().user)
    client.post("/org/import/", {"file": xlsx_file()})
    job = ImportJob.objects.get()
    assert imports.run_import.call(job.pk) == "org 待确认导入"
    assert imports.run_import.call(job.pk) == "该任务已由其他进程处理"


def test_the_preview_shows_changes_and_warnings(client):
    client.force_login(hq_actor().user)
    xlsx.import_workbook(hq_actor_again(), xlsx_file())
    units = [[*UNITS[0][:2], "一街道改", *UNITS[0][3:]], UNITS[1]]
    regions = [*REGIONS, ["S2", "回風街道", "街道", "D"]]
    response = jobs.upload(client, "/org/import/", xlsx_file(regions=regions, units=units))
    assert response.context["job"].preview == [
        ["区域", 1, 0, 4],
        ["单位", 0, 1, 1],
        ["人员", 0, 0, 2],
    ]
    assert "含繁体字或生僻字「風」" in response.content.decode()
    assert not Region.objects.filter(code="S2").exists()


def hq_actor_again() -> Actor:
    return Actor(user=User.objects.get(username="hq"))


def test_another_person_can_neither_see_nor_confirm_a_job(client):
    hq = hq_actor().user
    other = member(Unit.objects.get(code="HQ"), Role.HQ_ADMIN, username="hq2")
    handler = member(Unit.objects.get(code="HQ"), Role.HANDLER, username="clerk2")
    client.force_login(hq)
    before = snapshot()
    job_page = jobs.upload(client, "/org/import/", xlsx_file())
    client.force_login(other)
    assert client.get(job_page.wsgi_request.path).status_code == 404
    assert client.post(job_page.wsgi_request.path).status_code == 404
    jobs.run_jobs()
    job = job_page.context["job"]
    with pytest.raises(PermissionDenied):
        imports.confirm(Actor(user=other), job)
    with pytest.raises(PermissionDenied):
        imports.start(Actor(user=handler), "org", xlsx_file())
    assert snapshot() == before


def test_import_command_dry_run_writes_nothing(tmp_path, capsys):
    path = tmp_path / "org.xlsx"
    path.write_bytes(xlsx_file().getvalue())
    call_command("import_org", str(path), "--dry-run")
    out = capsys.readouterr().out
    assert "区域: 新增 created 4, 变更 changed 0, 不变 unchanged 0" in out and "nothing was written" in out
    assert not Region.objects.exists() and not AuditLog.objects.exists()


def test_import_and_export_commands(tmp_path):
    path = tmp_path / "org.xlsx"
    path.write_bytes(xlsx_file().getvalue())
    call_command("import_org", str(path))
    assert Region.objects.count() == 4
    entry = AuditLog.objects.get(action="org.import")
    assert (entry.actor, entry.via) == (None, "command")
    out = tmp_path / "out.xlsx"
    call_command("export_org", str(out))
    book = load_workbook(out)
    assert [r[0] for r in book[xlsx.REGION_SHEET].iter_rows(min_row=2, values_only=True)] == [
        "D",
        "S1",
        "S1C1",
        "S1C1G1",
    ]


def test_import_command_fails_with_a_message_on_a_bad_file(tmp_path, capsys):
    path = tmp_path / "bad.xlsx"
    path.write_bytes(xlsx_file(people=[["x", "某人", "", "NOPE", "志愿者"]]).getvalue())
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_org", str(path))
    assert "人员 第2行 D（单位编码）列：单位「NOPE」不存在" in capsys.readouterr().err
    assert not Region.objects.exists()
    path.write_bytes(b"junk")
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_org", str(path))
    assert capsys.readouterr().err.strip() == xlsx.NOT_XLSX
    with pytest.raises(CommandError, match="cannot read"):
        call_command("import_org", str(tmp_path / "missing.xlsx"))
    with pytest.raises(CommandError, match="cannot write"):
        call_command("export_org", str(tmp_path / "no-such-dir" / "out.xlsx"))


@settings(max_examples=40, deadline=None, database=None)
@given(
    sheet=st.sampled_from(["regions", "units", "people"]),
    row=st.integers(min_value=0, max_value=3),
    column=st.integers(min_value=0, max_value=5),
    value=st.one_of(
        st.text(alphabet=st.characters(exclude_categories=("Cc", "Cs")), max_size=40),
        st.sampled_from(
            ["", "S1", "s1", "D", "U1", "u2", "街道", "社区", "区级部门", "志愿者", "NOPE", "x" * 120]
        ),
        st.integers(min_value=-(10**12), max_value=10**12),
        st.floats(allow_nan=False, allow_infinity=False),
    ),
)
def test_any_one_cell_changed_imports_all_or_nothing_and_never_crashes(sheet, row, column, value):
    from django.db import transaction

    data = {
        "regions": [list(r) for r in REGIONS],
        "units": [list(r) for r in UNITS],
        "people": [list(r) for r in PEOPLE],
    }
    rows = data[sheet]
    target = rows[row % len(rows)]
    target[column % len(target)] = value
    with transaction.atomic():
        actor = hq_actor()
        before = snapshot()
        result = xlsx.import_workbook(actor, xlsx_file(**data))
        if result.ok:
            assert Region.objects.filter(code="S1C1").exists() or sheet == "regions"
        else:
            assert result.errors and all(e.message for e in result.errors)
            assert snapshot() == before
        transaction.set_rollback(True)


def test_import_page_tells_an_xls_and_an_encrypted_file_apart(client):
    from org.tests.workbooks import ole_file

    client.force_login(hq_actor().user)
    for name, streams, message in (
        ("旧表.xls", ("Workbook",), "旧版 Excel 97-2003"),
        ("加密.xlsx", ("EncryptionInfo", "EncryptedPackage"), "设置了打开密码"),
    ):
        upload = ole_file(*streams)
        upload.name = name
        page = jobs.upload(client, "/org/import/", upload).content.decode()
        assert message in page and "未导入任何数据" in page


def test_an_importer_that_crashes_leaves_a_failed_job_and_no_file(client, monkeypatch):
    client.force_login(hq_actor().user)

    def crash(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setitem(imports.IMPORTERS, "org", dataclasses.replace(imports.IMPORTERS["org"], run=crash))
    response = jobs.upload(client, "/org/import/", xlsx_file())
    job = response.context["job"]
    assert job.state == ImportJob.State.FAILED and job.file == ""
    assert "导入时发生内部错误" in response.content.decode()
    assert not default_storage.listdir("private/imports")[1]
