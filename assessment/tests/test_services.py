"""Hand-counted scores and ranks (ties, a missing component, both no-data rules), the checks
beside each action, freezing after publish, and the circular's Word document."""

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from docx import Document

from assessment import services
from assessment.models import Circular, Figure, Run, Scheme, Score
from cases.models import CasePart
from org.audit import Actor
from org.errors import ActionRefused
from org.models import Role, Unit
from org.tests.factories import UnitFactory, member

from .helpers import at, scheme, table

pytestmark = pytest.mark.django_db


def test_reweight_scores_ties_and_missing_components_hand_counted(world):
    units, hq = world
    run = services.compute_run(Actor(hq), scheme(hq), dt.date(2026, 11, 5), at=at(30, 23))
    # A: 100·60+100·40 → 100; C: 50·60+80·40 → 62; B, F: cases missing, re-weighted → 50 (tie);
    # D: 0; E: no data at all → not ranked.
    assert table(run) == {
        "A": (Decimal("100.00"), 1),
        "C": (Decimal("62.00"), 2),
        "B": (Decimal("50.00"), 3),
        "F": (Decimal("50.00"), 3),
        "D": (Decimal("0.00"), 5),
        "E": (None, None),
    }
    assert run.label == "2026年11月" and run.period_end == dt.date(2026, 12, 1)
    c_cases = Figure.objects.get(run=run, unit=units["C"], kind="cases")
    assert c_cases.value == Decimal("80.00")
    assert c_cases.source["handle_on_time_rate"] == [0, 1]
    b_tasks = Figure.objects.get(run=run, unit=units["B"], kind="tasks")
    assert (b_tasks.numerator, b_tasks.denominator, b_tasks.value) == (1, 2, Decimal("50.00"))
    assert "重新计权" in Score.objects.get(run=run, unit=units["B"]).note
    red, black = services.red_black(run)
    assert [s.unit.name for s in red] == ["A", "C"]
    assert [s.unit.name for s in black] == ["D", "B", "F"] or [s.unit.name for s in black] == ["D", "F", "B"]


def test_exclude_rule_leaves_units_with_a_missing_component_unranked(world):
    _units, hq = world
    run = services.compute_run(
        Actor(hq), scheme(hq, Scheme.NoData.EXCLUDE), dt.date(2026, 11, 5), at=at(30, 23)
    )
    ranks = table(run)
    assert ranks["A"] == (Decimal("100.00"), 1) and ranks["C"] == (Decimal("62.00"), 2)
    assert ranks["B"] == ranks["D"] == ranks["F"] == ranks["E"] == (None, None)


def test_only_tasks_closed_by_t_count(world):
    _units, hq = world
    run = services.compute_run(Actor(hq), scheme(hq, weights={"tasks": 100}), dt.date(2026, 11, 5), at=at(15))
    # As of 11-15 A's second task (closed 11-20) is not closed yet: 1/2.
    assert table(run)["A"] == (Decimal("50.00"), 1)


def test_checks(world):
    units, hq = world
    clerk = member(units["A"], Role.HANDLER)
    with pytest.raises(PermissionDenied):
        scheme(clerk)
    with pytest.raises(ValidationError, match="100"):
        scheme(hq, weights={"tasks": 60, "cases": 30})
    weekly = services.SchemeSpec("周", "week", [Unit.Kind.DEPARTMENT], {"materials": 50, "cases": 50})
    with pytest.raises(ValidationError):
        services.save_scheme(Actor(hq), weekly)
    assert not Scheme.objects.exists()
    s = scheme(hq)
    empty = services.compute_run(Actor(hq), s, dt.date(2026, 3, 1), at=at(30, 23))
    with pytest.raises(ValidationError, match="没有可排名"):
        services.publish_run(Actor(hq), empty)
    run = services.compute_run(Actor(hq), s, dt.date(2026, 11, 5), at=at(30, 23))
    with pytest.raises(PermissionDenied):
        services.publish_run(Actor(clerk), run)
    with pytest.raises(ActionRefused):
        services.issue_circular(Actor(hq), run, "通报", "正文")
    services.publish_run(Actor(hq), run)
    with pytest.raises(ActionRefused):
        services.publish_run(Actor(hq), Run.objects.get(pk=run.pk))
    with pytest.raises(ActionRefused):
        services.compute_run(Actor(hq), s, dt.date(2026, 11, 20))
    assert list(run.events.values_list("kind", flat=True)) == ["computed", "published"]


def test_published_figures_stay_after_a_later_rework(world):
    units, hq = world
    s = scheme(hq)
    run = services.compute_run(Actor(hq), s, dt.date(2026, 11, 5), at=at(30, 23))
    services.publish_run(Actor(hq), run)
    before = list(Figure.objects.filter(run=run).values_list("unit_id", "kind", "value", "source"))
    # The case of A is reworked: its part is no longer handled.
    CasePart.objects.filter(unit=units["A"]).update(status=CasePart.Status.DISPATCHED, handled_at=None)
    with pytest.raises(ActionRefused):
        services.compute_run(Actor(hq), s, dt.date(2026, 11, 5))
    after = list(Figure.objects.filter(run=run).values_list("unit_id", "kind", "value", "source"))
    assert after == before
    assert table(Run.objects.get(pk=run.pk))["A"] == (Decimal("100.00"), 1)


def test_circular_word_document_number_and_ranking(world):
    units, hq = world
    run = services.compute_run(Actor(hq), scheme(hq), dt.date(2026, 11, 5), at=at(30, 23))
    services.publish_run(Actor(hq), run)
    circular = services.issue_circular(
        Actor(hq), run, "关于2026年11月创文考评情况的通报", "现将考评情况通报如下。"
    )
    year = timezone.localdate().year
    assert circular.number == f"巴州创文办〔{year}〕1号"
    doc = Document(io.BytesIO(bytes(circular.document)))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert text.startswith("巴州创文办\n" + circular.number)
    assert doc.paragraphs[0].runs[0].font.color.rgb == services.circular_doc.RED
    rows = [[c.text for c in row.cells] for row in doc.tables[0].rows]
    assert rows[0] == ["名次", "单位", "总分", "较上期", "说明"]
    assert rows[1:3] == [["1", "A", "100.00", "—", ""], ["2", "C", "62.00", "—", ""]]
    assert rows[3][:3] == ["3", "B", "50.00"]
    assert rows[4][:3] == ["3", "F", "50.00"] and rows[5][:3] == ["5", "D", "0.00"]
    assert "第1名 A（100.00分）" in text
    with pytest.raises(ActionRefused):
        services.issue_circular(Actor(hq), run, "再发", "正文")
    assert Circular.objects.count() == 1
    services.check_download(member(units["D"], Role.HANDLER), circular)
    with pytest.raises(PermissionDenied):
        services.check_download(member(UnitFactory(code="X1"), Role.HANDLER), circular)


def test_yearly_sequence(world):
    _units, hq = world
    s = scheme(hq)
    numbers = []
    for day in (dt.date(2026, 10, 5), dt.date(2026, 11, 5)):
        run = services.compute_run(Actor(hq), s, day, at=at(30, 23))
        Score.objects.filter(run=run, unit__name="A").update(total=1, rank=1)
        services.publish_run(Actor(hq), run)
        numbers.append(services.issue_circular(Actor(hq), run, "通报", "正文").sequence)
    assert numbers == [1, 2]


def test_accountability_after_a_circular(world):
    units, hq = world
    run = services.compute_run(Actor(hq), scheme(hq), dt.date(2026, 11, 5), at=at(30, 23))
    services.publish_run(Actor(hq), run)
    circular = services.issue_circular(Actor(hq), run, "通报", "正文")
    today = timezone.localdate()
    spec = services.AccountabilitySpec(
        units["D"].pk, "talk", "任务销号率末位", today + dt.timedelta(days=30), "张三", "一个月内完成整改"
    )
    item = services.record_accountability(Actor(hq), circular, spec)
    assert (item.unit, item.get_kind_display(), item.statement) == (units["D"], "约谈", "一个月内完成整改")
    clerk = member(units["D"], Role.HANDLER)
    assert list(services.visible_accountabilities(clerk)) == [item]
    assert not services.visible_accountabilities(member(units["A"], Role.HANDLER)).exists()
    outsider = UnitFactory(code="X2")
    for bad in (
        services.AccountabilitySpec(outsider.pk, "talk", "事由", today),
        services.AccountabilitySpec(units["D"].pk, "talk", "", today),
        services.AccountabilitySpec(units["D"].pk, "talk", "事由", today - dt.timedelta(days=1)),
    ):
        with pytest.raises(ValidationError):
            services.record_accountability(Actor(hq), circular, bad)
    with pytest.raises(PermissionDenied):
        services.record_accountability(Actor(clerk), circular, spec)
    assert circular.accountabilities.count() == 1


@pytest.mark.parametrize(
    ("kind", "day", "expected"),
    [
        ("week", dt.date(2026, 12, 3), (dt.date(2026, 11, 30), dt.date(2026, 12, 7), "2026年第49周")),
        ("month", dt.date(2026, 12, 31), (dt.date(2026, 12, 1), dt.date(2027, 1, 1), "2026年12月")),
        ("quarter", dt.date(2026, 11, 5), (dt.date(2026, 10, 1), dt.date(2027, 1, 1), "2026年第4季度")),
        ("quarter", dt.date(2026, 2, 5), (dt.date(2026, 1, 1), dt.date(2026, 4, 1), "2026年第1季度")),
    ],
)
def test_periods(kind, day, expected):
    assert services.period_of(kind, day) == expected


def test_a_day_out_of_range_is_refused(world):
    _units, hq = world
    with pytest.raises(ValidationError):
        services.compute_run(Actor(hq), scheme(hq), dt.date(9999, 12, 5))
    assert not Run.objects.exists()
