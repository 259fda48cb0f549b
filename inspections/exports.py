"""XLSX exports: a round's report (site × checklist lines with deductions, findings with photo
links) and the rectification list 整改清单. Scores come from ``inspections.scoring``.

Every text cell is written as text: a note beginning with = + - @ stays that text and never
becomes a formula, and reading the file back gives the same strings."""

import io
from collections.abc import Iterable

from django.db.models import QuerySet
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from org.models import Region, SiteType

from . import scoring
from .models import Finding, Inspection, ItemResult, Round


def _row(sheet: Worksheet, values: Iterable, bold: bool = False) -> None:
    row = sheet.max_row + 1 if sheet.max_row > 1 or sheet.cell(1, 1).value is not None else 1
    for col, value in enumerate(values, start=1):
        cell = sheet.cell(row, col)
        if isinstance(value, str):
            cell.value = value
            cell.data_type = "s"  # text as text, never a formula
        else:
            cell.value = value
        if bold:
            cell.font = Font(bold=True)


def _link(sheet: Worksheet, row: int, col: int, url: str) -> None:
    cell = sheet.cell(row, col)
    cell.value, cell.data_type, cell.hyperlink = url, "s", url


def _local(moment) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}" if moment else ""


def _save(workbook: Workbook) -> io.BytesIO:
    out = io.BytesIO()
    workbook.save(out)
    out.seek(0)
    return out


def _streets() -> dict[str, str]:
    return dict(Region.objects.values_list("code", "name"))


def _place(path: str, names: dict[str, str]) -> tuple[str, str]:
    codes = path.strip("/").split("/")
    return names.get(codes[1], "") if len(codes) > 1 else "", names.get(codes[2], "") if len(
        codes
    ) > 2 else ""


def round_workbook(round_: Round, inspections: QuerySet[Inspection], base_url: str) -> io.BytesIO:
    """Sheet 得分: one row per inspected site, one column per checklist line (合格, 不适用 or the
    deduction); sheet 问题: one row per finding with its photos as links."""
    rows = list(
        inspections.select_related("site__region", "inspector", "responsible_unit").prefetch_related(
            "results__item"
        )
    )
    codes = sorted({r.item.code for i in rows for r in i.results.all()})
    kinds, names = SiteType.names(), _streets()
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "得分"
    _row(
        sheet,
        [f"{round_.title}（{round_.get_kind_display()}，{round_.starts_on} 至 {round_.ends_on}）"],
        bold=True,
    )
    head = [
        "点位编码",
        "点位",
        "类型",
        "街道/乡镇",
        "社区/村",
        "督查人员",
        "提交时间",
        "距点位(米)",
        "超出签到范围",
    ]
    _row(sheet, [*head, "应得分", "扣分", "得分", "得分率(%)", *codes], bold=True)
    for i in rows:
        street, community = _place(i.site.region.path, names)
        by_code = {r.item.code: r for r in i.results.all()}
        lines: list[str | float] = []
        for code in codes:
            result = by_code.get(code)
            if result is None or result.result == ItemResult.Result.NOT_APPLICABLE:
                lines.append("不适用" if result else "")
            elif result.result == ItemResult.Result.PASS:
                lines.append("合格")
            else:
                lines.append(-float(result.deduction))
        percent = scoring.inspection_percent(i)
        _row(
            sheet,
            [
                i.site.code,
                i.site.name,
                kinds.get(i.site.kind, i.site.kind),
                street,
                community,
                str(i.inspector),
                _local(i.submitted_at),
                i.distance_m,
                "是" if i.far_from_site else "否",
                float(i.full_points),
                float(i.deductions),
                float(i.score),
                float(percent) if percent is not None else "无数据",
                *lines,
            ],
        )
    findings = Finding.objects.filter(inspection__in=[i.pk for i in rows])
    _findings_sheet(workbook.create_sheet("问题"), findings, base_url)
    return _save(workbook)


FINDING_HEAD = [
    "问题编号",
    "轮次",
    "督查类型",
    "点位",
    "点位类型",
    "街道/乡镇",
    "检查项",
    "问题描述",
    "扣分",
    "发现时间",
    "整改时限",
    "状态",
    "责任单位",
    "责任领导",
    "案件编号",
    "整改确认时间",
    "照片",
]


def _findings_sheet(sheet: Worksheet, findings: QuerySet[Finding], base_url: str) -> None:
    kinds, names = SiteType.names(), _streets()
    now = timezone.now()
    _row(sheet, FINDING_HEAD, bold=True)
    qs = findings.select_related(
        "inspection__round", "site__region", "item", "responsible_unit", "responsible_leader", "case"
    ).prefetch_related("photos")
    for f in qs:
        state = f.get_status_display() + ("（逾期）" if f.is_overdue(now) else "")
        street, _ = _place(f.site.region.path, names)
        photos = [base_url.rstrip("/") + p.image.url for p in f.photos.all()]
        _row(
            sheet,
            [
                f.pk,
                f.inspection.round.title,
                f.inspection.round.get_kind_display(),
                f.site.name,
                kinds.get(f.site.kind, f.site.kind),
                street,
                f"{f.item.code} {f.item.text}",
                f.description,
                float(f.deduction),
                _local(f.found_at),
                _local(f.deadline),
                state,
                str(f.responsible_unit or ""),
                str(f.responsible_leader or ""),
                f.case.number if f.case else "",
                _local(f.rectified_at),
                "",
            ],
        )
        row, col = sheet.max_row, len(FINDING_HEAD)
        for offset, url in enumerate(photos):
            _link(sheet, row, col + offset, url)


def findings_workbook(findings: QuerySet[Finding], base_url: str) -> io.BytesIO:
    """整改清单: the findings of the list's filter, with state, deadline, unit and photo links."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "整改清单"
    _findings_sheet(sheet, findings, base_url)
    return _save(workbook)
