"""Bonus and deduction entries 加减分 (two HQ users), correction versions 更正版, movement against
the previous period and a unit's history, circular drafts edited before issue, and the PDF."""

import datetime as dt
import io
from decimal import Decimal

import pypdf
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from assessment import services
from assessment.models import Bonus, Circular, Figure, Run
from cases.models import CasePart
from indicators.models import Task
from indicators.tests.factories import TaskFactory
from org.audit import Actor
from org.errors import ActionRefused
from org.models import Role, Unit
from org.tests.factories import UnitFactory, member

from .helpers import TZ, at, scheme, table

pytestmark = pytest.mark.django_db


@pytest.fixture
def hq2():
    return member(UnitFactory(kind=Unit.Kind.HQ, code="HQ2"), Role.HQ_ADMIN, username="hq2")


def bonus(hq, s, unit, points, **kw) -> Bonus:
    spec = services.BonusSpec(
        s.pk, dt.date(2026, 11, 5), unit.pk, Decimal(points), kw.pop("reason", "事由"), "佐证说明"
    )
    return services.enter_bonus(Actor(hq), spec, **kw)


def test_bonus_entries_count_once_approved_by_a_second_hq_user(world, hq2):
    units, hq = world
    s = scheme(hq, weights={"tasks": 60, "cases": 20, "bonus": 20})
    b_plus = bonus(hq, s, units["B"], "10")
    f_minus = bonus(hq, s, units["F"], "-10")
    c_rejected = bonus(hq, s, units["C"], "20")
    d_pending = bonus(hq, s, units["D"], "5")
    services.decide_bonus(Actor(hq2), b_plus, True)
    services.decide_bonus(Actor(hq2), f_minus, True)
    services.decide_bonus(Actor(hq2), c_rejected, False, "证据不足")
    run = services.compute_run(Actor(hq), s, dt.date(2026, 11, 5))  # T: now, after the approvals
    # bonus figure = 50 + Σ approved points. A: (60·100 + 20·100 + 20·50) / 100 = 90;
    # C: (60·50 + 20·80 + 20·50) / 100 = 56 (its +20 rejected); B: no cases, re-weighted:
    # (60·50 + 20·60) / 80 = 52.5; F: (60·50 + 20·40) / 80 = 47.5; D: +5 still pending:
    # (60·0 + 20·50) / 80 = 12.5; E: only the neutral bonus → no data, not ranked.
    assert table(run) == {
        "A": (Decimal("90.00"), 1),
        "C": (Decimal("56.00"), 2),
        "B": (Decimal("52.50"), 3),
        "F": (Decimal("47.50"), 4),
        "D": (Decimal("12.50"), 5),
        "E": (None, None),
    }
    fig = Figure.objects.get(run=run, unit=units["B"], kind="bonus")
    assert (fig.value, fig.numerator, fig.source) == (
        Decimal("60.00"),
        Decimal("10.00"),
        {"bonuses": [b_plus.pk]},
    )
    assert Figure.objects.get(run=run, unit=units["D"], kind="bonus").source == {"bonuses": []}
    # Approved after T: not in a run as of T.
    services.decide_bonus(Actor(hq2), d_pending, True)
    before = services.compute_run(
        Actor(hq), s, dt.date(2026, 11, 5), at=timezone.now() - dt.timedelta(hours=1)
    )
    assert table(before)["D"] == (Decimal("12.50"), 5)


def test_bonus_checks(world, hq2):
    units, hq = world
    s = scheme(hq, weights={"tasks": 80, "bonus": 20})
    entry = bonus(hq, s, units["B"], "3")
    with pytest.raises(PermissionDenied, match="不能审核自己录入"):
        services.decide_bonus(Actor(hq), entry, True)
    with pytest.raises(PermissionDenied):
        services.decide_bonus(Actor(member(units["A"], Role.HANDLER)), entry, True)
    with pytest.raises(ValidationError, match="驳回"):
        services.decide_bonus(Actor(hq2), entry, False, "")
    services.decide_bonus(Actor(hq2), entry, True)
    with pytest.raises(ActionRefused, match="已审核"):
        services.decide_bonus(Actor(hq2), Bonus.objects.get(pk=entry.pk), False, "改判")
    day = dt.date(2026, 11, 5)
    for bad in (
        services.BonusSpec(s.pk, day, units["B"].pk, Decimal(3), "", "佐证"),  # no reason
        services.BonusSpec(s.pk, day, units["B"].pk, Decimal(3), "事由", ""),  # no evidence
        services.BonusSpec(s.pk, day, units["B"].pk, Decimal(0), "事由", "佐证"),
        services.BonusSpec(s.pk, day, units["B"].pk, Decimal(51), "事由", "佐证"),
        services.BonusSpec(
            s.pk, day, UnitFactory(kind=Unit.Kind.HQ, code="HQ3").pk, Decimal(3), "事由", "佐证"
        ),
    ):
        with pytest.raises(ValidationError):
            services.enter_bonus(Actor(hq), bad)
    no_bonus = scheme(hq, weights={"tasks": 100})
    with pytest.raises(ValidationError, match="未设置加减分"):
        services.enter_bonus(
            Actor(hq), services.BonusSpec(no_bonus.pk, day, units["B"].pk, Decimal(3), "事由", "x")
        )
    # A file is evidence enough; it is kept and only HQ opens it.
    upload = SimpleUploadedFile("证明.pdf", b"%PDF-1.4\n%%EOF\n", content_type="application/pdf")
    spec = services.BonusSpec(s.pk, day, units["C"].pk, Decimal("-2.5"), "督查发现问题未整改", "")
    with_file = services.enter_bonus(Actor(hq), spec, upload)
    assert with_file.evidence_file.read() == b"%PDF-1.4\n%%EOF\n" and with_file.evidence_name == "证明.pdf"
    assert Bonus.objects.count() == 2


def test_correction_keeps_the_published_version_and_records_its_reason(world):
    units, hq = world
    s = scheme(hq)
    first = services.compute_run(Actor(hq), s, dt.date(2026, 11, 5), at=at(30, 23))
    services.publish_run(Actor(hq), first)
    published = list(Figure.objects.filter(run=first).values_list("unit_id", "kind", "value", "source"))
    # A later rework of A's case: its part is handled no more.
    CasePart.objects.filter(unit=units["A"]).update(status=CasePart.Status.DISPATCHED, handled_at=None)
    with pytest.raises(ValidationError, match="更正原因"):
        services.correct_run(Actor(hq), first, " ")
    with pytest.raises(ActionRefused):
        services.compute_run(Actor(hq), s, dt.date(2026, 11, 5))
    correction = services.correct_run(Actor(hq), first, "A 单位案件返工，按返工后数据更正", at=at(30, 23))
    assert (correction.version, correction.previous, correction.reason) == (
        2,
        first,
        "A 单位案件返工，按返工后数据更正",
    )
    assert correction.status == Run.Status.DRAFT and correction.at == at(30, 23)
    # The published version did not move.
    assert (
        list(Figure.objects.filter(run=first).values_list("unit_id", "kind", "value", "source")) == published
    )
    assert table(Run.objects.get(pk=first.pk))["A"] == (Decimal("100.00"), 1)
    # The correction: A's case part due 11-15 is pending and overdue at T, so 处置率 0, 按期处置率 0,
    # (1 − 超期待处置率) 0; 返工率 and 延期率 stay 0 → case figure 20 + 10 = 30;
    # total 60·100 + 40·30 = 72 → still first (C 62).
    assert Figure.objects.get(run=correction, unit=units["A"], kind="cases").value == Decimal("30.00")
    assert table(correction)["A"] == (Decimal("72.00"), 1)
    with pytest.raises(ActionRefused):  # only the latest version is corrected, and only once published
        services.correct_run(Actor(hq), first, "再次更正")
    with pytest.raises(ActionRefused):
        services.correct_run(Actor(hq), correction, "草稿")
    assert services.latest_published().filter(scheme=s).get() == first
    services.publish_run(Actor(hq), correction)
    assert services.latest_published().filter(scheme=s).get() == correction
    assert services.replaced_by(first) == correction
    assert [v.version for v in services.versions(first)] == [1, 2]
    clerk = member(units["A"], Role.HANDLER)
    assert [s.run for s in services.own_scores(clerk)] == [correction]
    assert "corrected" in correction.events.values_list("kind", flat=True)


def test_movement_against_the_previous_period_keeps_tied_ranks(world):
    units, hq = world
    s = scheme(hq, weights={"tasks": 100})
    october = dt.date(2026, 10, 10)
    closed = dt.datetime(2026, 10, 9, 10, tzinfo=TZ)
    for name, done in (("A", [True]), ("B", [False]), ("C", [True]), ("D", [True, False])):
        for on_time in done:
            TaskFactory(
                lead_unit=units[name],
                deadline=october,
                state=Task.State.CLOSED if on_time else Task.State.IN_PROGRESS,
                closed_at=closed if on_time else None,
            )
    oct_run = services.compute_run(Actor(hq), s, october, at=at(31, 23, month=10))
    # October: A 100, C 100 (1, 1), D 50 (3), B 0 (4); E and F no tasks.
    assert {k: v[1] for k, v in table(oct_run).items()} == {
        "A": 1,
        "C": 1,
        "D": 3,
        "B": 4,
        "E": None,
        "F": None,
    }
    services.publish_run(Actor(hq), oct_run)
    nov = services.compute_run(Actor(hq), s, dt.date(2026, 11, 5), at=at(30, 23))
    # November: A 100 (1); B, C, F 50 (2, 2, 2); D 0 (5).
    moves = {x.unit.name: (x.rank, x.previous_rank, x.movement) for x in services.ranking(nov)}
    assert moves == {
        "A": (1, 1, "持平"),
        "B": (2, 4, "↑2"),
        "C": (2, 1, "↓1"),
        "F": (2, None, "新"),
        "D": (5, 3, "↓2"),
        "E": (None, None, ""),
    }
    red, black = services.red_black(nov)
    assert [(x.unit.name, x.movement) for x in red] == [("A", "持平"), ("B", "↑2"), ("C", "↓1"), ("F", "新")]
    assert [(x.unit.name, x.movement) for x in black] == [("D", "↓2")]
    # The first period has nothing to compare with.
    assert {x.movement for x in services.ranking(oct_run)} == {""}
    services.publish_run(Actor(hq), nov)
    history = services.unit_history(member(units["B"], Role.HANDLER), units["B"])
    assert [(x.run.label, x.rank, x.movement) for x in history] == [
        ("2026年11月", 2, "↑2"),
        ("2026年10月", 4, ""),
    ]
    with pytest.raises(PermissionDenied):
        services.unit_history(member(units["A"], Role.HANDLER), units["B"])


def _issue(hq, s) -> tuple[Run, Circular]:
    run = services.compute_run(Actor(hq), s, dt.date(2026, 11, 5), at=at(30, 23))
    services.publish_run(Actor(hq), run)
    draft = services.draft_circular(Actor(hq), run)
    return run, draft


def test_circular_is_drafted_edited_then_issued_and_frozen(world):
    units, hq = world
    run, draft = _issue(hq, scheme(hq))
    assert (draft.status, draft.number, draft.title) == ("draft", "", "关于2026年11月部门月考评情况的通报")
    with pytest.raises(ActionRefused):
        services.draft_circular(Actor(hq), run)
    with pytest.raises(ActionRefused):  # a unit cannot download a draft
        services.check_download(member(units["A"], Role.HANDLER), draft)
    with pytest.raises(ValidationError):
        services.edit_circular(Actor(hq), draft, "", "正文")
    with pytest.raises(PermissionDenied):
        services.edit_circular(Actor(member(units["A"], Role.HANDLER)), draft, "标题", "正文")
    edited = services.edit_circular(Actor(hq), draft, "关于11月考评的通报（修改稿）", "修改后的正文。")
    assert (edited.title, edited.body) == ("关于11月考评的通报（修改稿）", "修改后的正文。")
    issued = services.issue_circular(Actor(hq), run, edited.title, edited.body)
    year = timezone.localdate().year
    assert (issued.pk, issued.number, issued.status) == (draft.pk, f"巴州创文办〔{year}〕1号", "issued")
    with pytest.raises(ActionRefused, match="已印发"):
        services.edit_circular(Actor(hq), Circular.objects.get(pk=draft.pk), "再改", "正文")
    assert Circular.objects.get(pk=draft.pk).title == "关于11月考评的通报（修改稿）"


def test_circular_pdf_holds_number_title_figures_and_ranking(world):
    units, hq = world
    run, _draft = _issue(hq, scheme(hq))
    circular = services.issue_circular(
        Actor(hq), run, "关于2026年11月创文考评情况的通报", "现将考评情况通报如下。"
    )
    data = services.circular_pdf(circular)
    assert data.startswith(b"%PDF-") and data == bytes(circular.pdf)
    reader = pypdf.PdfReader(io.BytesIO(data))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert circular.number in text and "关于2026年11月创文考评情况的通报" in text
    assert "— 1 —" in text and "巴州创文办" in text
    # The ranking in order, with its figures: A 100, C 62, B 50 / F 50 (tied third), D 0 (the
    # table, before the chart that follows it).
    table_text, chart_text = text.split("图 各单位总分")
    lines = [line.strip() for line in table_text.splitlines()]
    figures = ("100.00", "62.00", "50.00", "0.00")
    ranked = [(lines[i - 2], lines[i - 1], line) for i, line in enumerate(lines) if line in figures]
    assert ranked == [
        ("1", "A", "100.00"),
        ("2", "C", "62.00"),
        ("3", "B", "50.00"),
        ("3", "F", "50.00"),
        ("5", "D", "0.00"),
    ]
    # the chart: the ranked units by name with their totals (bars drawn best first)
    assert all(label in chart_text for label in ("1. A", "2. C", "3. B", "3. F", "5. D", "62.00"))
    assert "第1名 A（100.00分）" in text.replace("\n", "")
    services.check_download(member(units["D"], Role.HANDLER), circular)
