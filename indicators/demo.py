"""The demo's index system: the shipped sample (7 测评项目, 59 测评内容) imported from XLSX through
the same service HQ uses, activated, and decomposed onto the demo units of ``org.demo`` with lead
units, co-units, leaders, people, deadlines and monthly milestones. A few tasks are reported on,
closed out (销号), reopened or overdue, and a few items are left with gaps for the 五落实 check.
Loading twice changes nothing.
"""

import datetime as dt
import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone
from PIL import Image

from org.audit import Actor
from org.models import Unit, User

from . import services, xlsx
from .models import IndexItem, IndexSystem, Task

# Item code → lead unit code, co-unit codes. Items not listed stay undecomposed (五落实 gaps).
DECOMPOSITION: dict[str, tuple[str, tuple[str, ...]]] = {
    "A01": ("D-宣传部", ("D-组织部",)),
    "A02": ("D-组织部", ("D-机关事务中心",)),
    "A03": ("D-发改局", ("D-融媒体中心",)),
    "A04": ("D-发改局", ("D-人社局", "D-医保局")),
    "A05": ("D-组织部", ("D-机关事务中心",)),
    "A06": ("D-民政局", ("S1", "T1")),
    "A07": ("DISPATCH", ("D-城管局", "D-住建局")),
    "B01": ("D-司法局", ("D-发改局",)),
    "B02": ("D-司法局", ("D-宣传部", "D-教科局")),
    "B03": ("D-公安分局", ("D-政法委",)),
    "B04": ("D-政法委", ("D-司法局", "S1")),
    "B05": ("D-司法局", ()),
    "B06": ("D-消防大队", ("D-应急局",)),
    "B07": ("D-交警大队", ("D-交通局", "D-城管局")),
    "B08": ("D-教科局", ("D-公安分局", "D-文广旅局", "D-团区委")),
    "C01": ("D-发改局", ("D-市场监管局", "D-税务局")),
    "C02": ("D-市场监管局", ("D-商务局",)),
    "C03": ("D-市场监管局", ("D-卫健局",)),
    "C04": ("D-市场监管局", ("D-医保局",)),
    "C05": ("D-市场监管局", ()),
    "C06": ("D-发改局", ("D-市场监管局", "D-财政局")),
    "C07": ("D-商务局", ("D-市场监管局", "D-城管局", "S1")),
    "C08": ("D-城管局", ("D-市场监管局", "S1")),
    "D01": ("D-宣传部", ("D-城管局", "D-融媒体中心")),
    "D02": ("D-宣传部", ("D-妇联", "D-总工会")),
    "D03": ("D-教科局", ("D-团区委", "D-妇联")),
    "D04": ("D-文明实践中心", ("D-宣传部", "S1", "S1C1")),
    "D05": ("D-团区委", ("D-文明实践中心", "D-民政局")),
    "D06": ("D-文广旅局", ()),
    "D07": ("D-民政局", ("D-农业农村局", "T1")),
    "D08": ("D-宣传部", ("D-融媒体中心",)),
    "D09": ("D-宣传部", ("D-文广旅局", "D-交通局", "S1")),
    "E01": ("D-城管局", ("D-住建局", "D-交通局")),
    "E02": ("S1", ("D-城管局", "D-住建局", "S1C1")),
    "E03": ("D-住建局", ("S1", "S1C1")),
    "E04": ("D-城管局", ("D-文广旅局", "D-交通局")),
    "E05": ("D-交警大队", ("D-城管局",)),
    "E06": ("D-交通局", ()),
    "E07": ("D-住建局", ("D-城管局", "T1")),
    "E08": ("S1C1", ("D-民政局", "D-商务局")),
    "E09": ("D-住建局", ("D-残联",)),
    "E10": ("D-城管局", ("D-宣传部", "D-住建局")),
    "F01": ("D-生态环境分局", ("D-住建局", "D-城管局")),
    "F02": ("D-水利局", ("D-生态环境分局", "D-住建局")),
    "F03": ("D-城管局", ("D-机关事务中心", "S1C1")),
    "F04": ("D-住建局", ("D-林业局",)),
    "F05": ("D-生态环境分局", ("D-公安分局",)),
    "F07": ("D-生态环境分局", ("D-宣传部",)),
    "F08": ("D-农业农村局", ("T1",)),
    "G01": ("HQ", ("D-宣传部",)),
    "G02": ("HQ", ()),
    "G03": ("D-财政局", ("HQ",)),
    "G04": ("HQ", ("D-宣传部", "D-组织部")),
    "G05": ("S1C1", ("S1", "HQ")),
    "G07": ("D-教科局", ("HQ",)),
}
# Demo logins answer for their unit's tasks, so they see work on their board.
PEOPLE = {"D-城管局": "handler", "S1": "street", "S1C1": "community"}
# Items whose task is left without a person or without a monthly plan, for the 五落实 check.
NO_PERSON = ("B05", "E06")
NO_PLAN = ("C05", "D06", "G02")
KEY_ITEMS = ("C07", "C08", "E01", "E02", "E03", "E04", "D04")
# Offsets in days from today: overdue, red, yellow, and comfortable deadlines in turn.
DEADLINE_OFFSETS = (-9, 1, 4, 35, 60, 90, 120, 45, 75, 150)


def _photo(name: str) -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (40, 140, 80)).save(out, "PNG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/png")


def _months(start: dt.date, end: dt.date) -> list[dt.date]:
    months, month = [], start.replace(day=1)
    while month <= end.replace(day=1):
        months.append(month)
        month = (month + dt.timedelta(days=32)).replace(day=1)
    return months


def _person(unit: Unit) -> User:
    return User.objects.get(username=PEOPLE.get(unit.code, f"h-{unit.code.lower()}"))


@transaction.atomic
def load() -> None:
    if IndexSystem.objects.filter(name=xlsx.SAMPLE_NAME, version=xlsx.SAMPLE_VERSION).exists():
        return
    hq = Actor.system(user=User.objects.get(username="hq"))
    today = timezone.localdate()
    system, result = services.import_system(
        hq,
        xlsx.sample_workbook(),
        name=xlsx.SAMPLE_NAME,
        version=xlsx.SAMPLE_VERSION,
        campaign_year=today.year,
        note="示例：结构取自全国文明城市测评体系，文字有删节",
    )
    if system is None:
        raise RuntimeError("; ".join(str(e) for e in result.errors))
    services.activate_system(hq, system)

    units = {u.code: u for u in Unit.objects.all()}
    leaders = list(User.objects.filter(username__startswith="leader").order_by("username"))
    items = IndexItem.objects.filter(project__system=system).order_by("project__position", "position")
    tasks: list[Task] = []
    for index, item in enumerate(items):
        if item.code not in DECOMPOSITION:
            continue
        lead_code, co_codes = DECOMPOSITION[item.code]
        lead = units[lead_code]
        deadline = today + dt.timedelta(days=DEADLINE_OFFSETS[index % len(DEADLINE_OFFSETS)])
        task = services.create_task(
            hq,
            item,
            services.Assignment(
                lead_unit=lead,
                co_units=[units[c] for c in co_codes],
                responsible_leader=leaders[index % len(leaders)],
                responsible_person=None if item.code in NO_PERSON else _person(lead),
                deadline=deadline,
                is_key=item.code in KEY_ITEMS,
            ),
        )
        if item.code not in NO_PLAN:
            months = _months(today - dt.timedelta(days=31), deadline)
            step = 100 / len(months)
            plan = [(m, min(100, round(step * (n + 1))), "") for n, m in enumerate(months)]
            services.set_milestones(hq, task, plan)
        tasks.append(task)
    _progress(hq, tasks)


def _progress(hq: Actor, tasks: list[Task]) -> None:
    """Bring some tasks along: reports, reviews, close-outs, a returned request and a reopening."""
    for n, task in enumerate(tasks):
        if task.responsible_person is None or n % 3 == 2:
            continue
        unit = Actor.system(user=task.responsible_person)
        report = services.report_progress(unit, task, 20 + (n * 7) % 60, "已完成摸底排查，正在集中整改", [])
        if n % 2 == 0:
            services.review_report(hq, report, accepted=True)
        if n % 6 == 0:
            services.request_close_out(
                unit, task, "整改完成，已对照测评标准自查", [_photo(f"销号佐证-{task.item.code}.png")]
            )
            services.approve_close_out(hq, task, "资料齐全，同意销号")
            if n % 12 == 0:
                services.reopen_task(hq, task, "督查暗访发现问题反弹")
        elif n % 6 == 3:
            services.request_close_out(
                unit, task, "已按验收标准完成", [_photo(f"完成照片-{task.item.code}.png")]
            )
            if n % 12 == 3:
                services.reject_close_out(hq, task, "佐证材料不足，请补充整改前后对比照片")
