"""The eleven case metrics on a hand-counted month, as of different moments, with scopes and
zero denominators; and the cases behind each figure."""

import pytest

from cases import metrics
from cases.metrics import Figure
from cases.models import Case, CaseEvent, ExtensionRequest
from cases.tests.conftest import at
from cases.tests.factories import CaseFactory, CasePartFactory, category
from org.tests.factories import UnitFactory, UserFactory, member, region_tree

pytestmark = pytest.mark.django_db

MARCH = metrics.month(2026, 3)


def eod(month, day):
    return at(2026, month, day, 23, 59, 59)


@pytest.fixture
def march():
    """Six reports around March 2026, counted by hand in the tests below.

    A: accepted, dispatched on time, handled and closed on time.
    B: dispatched late, returned (part 1) and re-dispatched (part 2), handled late, reworked.
    C: rejected.  D: merged.  E: reported in February, accepted 1 March, extended, handled 12 April.
    F: reported 30 March, accepted 1 April.
    """
    tree = region_tree()
    u1, u2, u3 = UnitFactory(), UnitFactory(), UnitFactory()
    road, garbage = category("0303"), category("0102")
    a = CaseFactory(
        category=road,
        region=tree["c1"],
        status="closed",
        reporter_unit=u3,
        reported_at=at(2026, 3, 2, 9),
        accepted_at=at(2026, 3, 2, 10),
        dispatch_deadline=eod(3, 2),
        dispatched_at=at(2026, 3, 2, 11),
        handled_at=at(2026, 3, 5, 9),
        verify_deadline=eod(3, 7),
        verified_at=at(2026, 3, 6, 9),
        closed_at=at(2026, 3, 6, 9),
        close_deadline=eod(3, 11),
    )
    CasePartFactory(
        case=a,
        unit=u1,
        dispatched_at=at(2026, 3, 2, 11),
        deadline=eod(3, 9),
        handled_at=at(2026, 3, 5, 9),
        status="handled",
    )
    b = CaseFactory(
        category=road,
        region=tree["c2"],
        status="handling",
        reported_at=at(2026, 3, 3, 9),
        accepted_at=at(2026, 3, 3, 10),
        dispatch_deadline=eod(3, 3),
        dispatched_at=at(2026, 3, 4, 10),
        handled_at=at(2026, 3, 14, 9),
        verify_deadline=eod(3, 16),
        verified_at=at(2026, 3, 15, 9),
        close_deadline=eod(3, 18),
        rework_count=1,
        return_count=1,
    )
    CasePartFactory(
        case=b,
        unit=u1,
        dispatched_at=at(2026, 3, 4, 10),
        deadline=eod(3, 10),
        status="returned",
        returned_at=at(2026, 3, 5, 9),
    )
    CasePartFactory(case=b, unit=u2, dispatched_at=at(2026, 3, 5, 10), deadline=eod(3, 20), status="handling")
    CaseEvent.objects.create(case=b, action=CaseEvent.Action.RETURN, at=at(2026, 3, 5, 9))
    CaseEvent.objects.create(case=b, action=CaseEvent.Action.REWORK, at=at(2026, 3, 15, 9))
    c = CaseFactory(category=garbage, region=tree["c1"], status="rejected", reported_at=at(2026, 3, 10, 9))
    d = CaseFactory(
        category=garbage, region=tree["c1"], status="merged", reported_at=at(2026, 3, 11, 9), merged_into=a
    )
    e = CaseFactory(
        category=road,
        region=tree["c1"],
        status="handled",
        reported_at=at(2026, 2, 27, 9),
        accepted_at=at(2026, 3, 1, 9),
        dispatch_deadline=eod(3, 2),
        dispatched_at=at(2026, 3, 1, 10),
        handled_at=at(2026, 4, 12, 9),
        close_deadline=eod(4, 2),
        extension_count=1,
    )
    e_part = CasePartFactory(
        case=e,
        unit=u3,
        dispatched_at=at(2026, 3, 1, 10),
        deadline=eod(3, 31),
        handled_at=at(2026, 4, 12, 9),
        status="handled",
        extension_days=5,
    )
    ExtensionRequest.objects.create(
        part=e_part, days=5, reason="x", status="approved", decided_at=at(2026, 3, 20, 9)
    )
    f = CaseFactory(
        category=garbage,
        region=tree["c2"],
        status="accepted",
        reported_at=at(2026, 3, 30, 9),
        accepted_at=at(2026, 4, 1, 9),
    )
    return {
        "a": a,
        "b": b,
        "c": c,
        "d": d,
        "e": e,
        "f": f,
        "u1": u1,
        "u2": u2,
        "u3": u3,
        "road": road,
        "garbage": garbage,
        **tree,
    }


def figures(sel):
    return {k: (f.numerator, f.denominator) for k, f in metrics.compute(sel).items()}


def test_the_month_as_of_april_10(march):
    got = figures(metrics.select(*MARCH, at=at(2026, 4, 10, 12)))
    assert got == {
        "valid_report_rate": (3, 5),  # A, B, F accepted of A, B, C, D, F reported in March
        "dispatch_on_time_rate": (2, 3),  # A and E of A, B, E accepted in March
        "dispatch_accuracy_rate": (2, 3),  # B was returned
        "handle_rate": (1, 3),  # parts due in March: A, B's second, E (B's first was returned)
        "handle_on_time_rate": (1, 3),
        "overdue_pending_rate": (2, 3),  # B's second part and E (handled only on 12 April)
        "extension_rate": (1, 3),  # E
        "verify_on_time_rate": (2, 2),  # A and B (its rework verification) of cases handled in March
        "close_rate": (1, 3),
        "close_on_time_rate": (1, 3),
        "rework_rate": (1, 3),  # B
    }


def test_later_as_of_counts_what_happened_since(march):
    got = figures(metrics.select(*MARCH, at=at(2026, 4, 15, 12)))
    assert got["handle_rate"] == (2, 3)
    assert got["handle_on_time_rate"] == (1, 3)  # E was late
    assert got["overdue_pending_rate"] == (1, 3)


def test_as_of_a_moment_inside_the_month(march):
    got = figures(metrics.select(*MARCH, at=at(2026, 3, 4, 12)))
    assert got["valid_report_rate"] == (2, 2)  # only A and B reported by then, both accepted
    assert got["dispatch_on_time_rate"] == (2, 3)
    assert got["dispatch_accuracy_rate"] == (3, 3)  # B's return came on 5 March
    assert got["rework_rate"] == (0, 3)
    assert got["close_rate"] == (0, 3)
    # Parts dispatched by then: A, B's first (returned later, so still due then) and E.
    assert got["handle_rate"] == (0, 3)
    assert got["overdue_pending_rate"] == (0, 3)
    assert got["extension_rate"] == (0, 3)
    assert metrics.compute(metrics.select(*MARCH, at=at(2026, 3, 4, 12)))["verify_on_time_rate"].rate is None


def test_scopes(march):
    m = march
    by_unit = figures(metrics.select(*MARCH, at=at(2026, 4, 10), unit=m["u1"]))
    assert by_unit["handle_rate"] == (1, 1)  # u1's returned part of B is not due
    assert by_unit["dispatch_accuracy_rate"] == (1, 2)  # cases A and B, B returned
    assert by_unit["valid_report_rate"] == (0, 0)
    assert figures(metrics.select(*MARCH, at=at(2026, 4, 10), unit=m["u3"]))["valid_report_rate"] == (1, 1)
    by_region = figures(metrics.select(*MARCH, at=at(2026, 4, 10), region=m["s2"]))
    assert by_region["valid_report_rate"] == (2, 2)  # B and F
    assert by_region["overdue_pending_rate"] == (1, 1)
    by_category = figures(metrics.select(*MARCH, at=at(2026, 4, 10), category=m["garbage"]))
    assert by_category["valid_report_rate"] == (1, 3)  # F of C, D, F
    assert by_category["close_rate"] == (0, 0)


def test_zero_denominators_are_no_data():
    result = metrics.compute(metrics.select(*metrics.month(2026, 1)))
    assert len(result) == 11
    assert all(f.denominator == 0 and f.rate is None and f.percent is None for f in result.values())


def test_the_cases_behind_a_figure(march):
    m = march
    sel = metrics.select(*MARCH, at=at(2026, 4, 10, 12))
    assert set(metrics.behind(sel, "dispatch_on_time_rate")) == {m["a"], m["e"]}
    assert set(metrics.behind(sel, "dispatch_on_time_rate", "denominator")) == {m["a"], m["b"], m["e"]}
    assert set(metrics.behind(sel, "valid_report_rate", "denominator")) == {
        m["a"],
        m["b"],
        m["c"],
        m["d"],
        m["f"],
    }
    assert set(metrics.behind(sel, "overdue_pending_rate")) == {m["b"], m["e"]}
    assert set(metrics.parts_behind(sel, "extension_rate").values_list("unit", flat=True)) == {m["u3"].pk}
    assert list(metrics.behind(metrics.select(*metrics.month(2026, 1)), "close_rate", "denominator")) == []
    for key, figure in metrics.compute(sel).items():
        if key in ("handle_rate", "handle_on_time_rate", "overdue_pending_rate", "extension_rate"):
            assert metrics.parts_behind(sel, key).count() == figure.numerator
            assert metrics.parts_behind(sel, key, "denominator").count() == figure.denominator
        else:
            assert metrics.behind(sel, key).count() == figure.numerator
            assert metrics.behind(sel, key, "denominator").count() == figure.denominator


def test_narrowed_to_what_a_viewer_sees(march):
    viewer = member(march["u3"])  # u3 reported A and holds E's part
    sel = metrics.select(*MARCH, at=at(2026, 4, 10), viewer=viewer)
    assert set(Case.objects.visible_to(viewer)) == {march["a"], march["e"]}
    got = figures(sel)
    assert got["valid_report_rate"] == (1, 1)  # A (E was reported in February)
    assert got["close_rate"] == (1, 2)
    assert got["handle_rate"] == (1, 2)  # A's part (u1) counts too: the viewer sees case A
    assert figures(metrics.select(*MARCH, at=at(2026, 4, 10), viewer=UserFactory()))["close_rate"] == (0, 0)


def test_narrowed_to_a_queryset_and_a_viewer(march):
    sel = metrics.select(*MARCH, at=at(2026, 4, 10), cases=Case.objects.filter(pk=march["a"].pk))
    assert figures(sel)["close_rate"] == (1, 1)
    assert figures(sel)["handle_rate"] == (1, 1)
    both = metrics.select(
        *MARCH,
        at=at(2026, 4, 10),
        cases=Case.objects.filter(category=march["road"]),
        viewer=member(march["u3"]),
    )
    assert figures(both)["valid_report_rate"] == (1, 1)  # A: a road case the viewer sees
    assert set(metrics.behind(both, "close_rate", "denominator")) == {march["a"], march["e"]}


def test_percent_matches_the_published_circular():
    # "911 closed of 972 due = 93.72% 结案率; 737 on time = 75.82%"
    assert Figure("close_rate", "结案率", 911, 972).percent == 93.72
    assert Figure("close_on_time_rate", "按期结案率", 737, 972).percent == 75.82


def test_a_unit_counts_only_the_parts_dispatched_to_it_before_the_moment(march):
    """A case accepted in March and dispatched to a unit only on 15 April is not that unit's case
    as of 10 April (issue 13: 应结案数 counted it)."""
    late_unit = UnitFactory()
    case = CaseFactory(
        category=category("0303"),
        region=Case.objects.first().region,
        status="dispatched",
        reported_at=at(2026, 3, 20, 9),
        accepted_at=at(2026, 3, 20, 10),
        dispatch_deadline=eod(3, 20),
        dispatched_at=at(2026, 4, 15, 9),
    )
    CasePartFactory(case=case, unit=late_unit, dispatched_at=at(2026, 4, 15, 9), deadline=eod(4, 25))
    before = figures(metrics.select(*MARCH, at=at(2026, 4, 10), unit=late_unit))
    assert all(value == (0, 0) for value in before.values()), before
    after = figures(metrics.select(*MARCH, at=at(2026, 4, 16), unit=late_unit))
    assert any(value != (0, 0) for value in after.values()), after


@pytest.mark.parametrize(
    "moment", [at(2026, 3, 20, 12), at(2026, 4, 10, 12), at(2026, 4, 15, 12), at(2026, 5, 1)]
)
def test_by_unit_gives_what_compute_gives_for_each_unit(march, moment):
    m = march
    keys = ["handle_rate", "handle_on_time_rate", "overdue_pending_rate", "extension_rate", "rework_rate"]
    units = [m["u1"], m["u2"], m["u3"], UnitFactory()]
    grouped = metrics.by_unit(*MARCH, [u.pk for u in units], keys, at=moment)
    for unit in units:
        one = metrics.compute(metrics.select(*MARCH, at=moment, unit=unit))
        assert {k: (f.numerator, f.denominator) for k, f in grouped[unit.pk].items()} == {
            k: (one[k].numerator, one[k].denominator) for k in keys
        }
    assert any(f.denominator for f in grouped[m["u1"].pk].values())  # the march data is counted
    with pytest.raises(ValueError):
        metrics.by_unit(*MARCH, [m["u1"].pk], ["close_rate"], at=moment)
