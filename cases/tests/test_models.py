"""Who sees which case, and the overdue / due-soon lists."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from cases.models import Case
from cases.tests.factories import CaseFactory, CasePartFactory
from org.models import Role, Unit
from org.tests.factories import GridFactory, UnitFactory, UserFactory, member, region_tree

pytestmark = pytest.mark.django_db


def test_visible_to_follows_scope_parts_and_reporter():
    tree = region_tree()
    grid = GridFactory(community=tree["c1"])
    lead, co, other = UnitFactory(), UnitFactory(), UnitFactory()
    in_c1 = CaseFactory(region=tree["c1"], grid=grid, lead_unit=lead)
    CasePartFactory(case=in_c1, unit=lead)
    CasePartFactory(case=in_c1, unit=co, is_lead=False)
    in_c2 = CaseFactory(region=tree["c2"], lead_unit=other)
    reporter = UserFactory()
    mine = CaseFactory(region=tree["c2"], reporter=reporter)

    dispatcher = member(UnitFactory(), Role.DISPATCHER)
    assert set(Case.objects.visible_to(dispatcher)) == {in_c1, in_c2, mine}
    assert set(Case.objects.visible_to(member(lead))) == {in_c1}
    assert set(Case.objects.visible_to(member(co))) == {in_c1}
    assert set(Case.objects.visible_to(member(other))) == {in_c2}
    street = member(UnitFactory(kind=Unit.Kind.STREET_OFFICE, region=tree["s1"]))
    assert set(Case.objects.visible_to(street)) == {in_c1}
    worker = member(UnitFactory(), Role.COLLECTOR)
    grid.workers.add(worker)
    assert set(Case.objects.visible_to(worker)) == {in_c1}
    assert set(Case.objects.visible_to(reporter)) == {mine}
    assert list(Case.objects.visible_to(UserFactory())) == []


def test_overdue_and_due_soon_use_the_current_stage_deadline():
    now = dt.datetime(2026, 3, 3, 10, tzinfo=ZoneInfo("Asia/Shanghai"))  # Tuesday
    late = CaseFactory(status=Case.Status.HANDLING, due_at=now - dt.timedelta(hours=1))
    soon = CaseFactory(status=Case.Status.DISPATCHED, due_at=now + dt.timedelta(hours=3))
    later = CaseFactory(status=Case.Status.HANDLED, due_at=now + dt.timedelta(days=3))  # 21 working hours
    CaseFactory(status=Case.Status.CLOSED, due_at=now - dt.timedelta(days=1))
    assert list(Case.objects.overdue(at=now)) == [late]
    assert late.is_overdue(now) and not soon.is_overdue(now)
    # Due soon is counted in working hours: one working day (7 h) by default.
    assert list(Case.objects.due_soon(at=now)) == [soon]
    assert list(Case.objects.due_soon(hours=21, at=now)) == [soon]
    assert set(Case.objects.due_soon(hours=22, at=now)) == {soon, later}


@pytest.mark.django_db
def test_each_foreign_key_without_its_own_index_still_leads_one():
    """Migration 0014 dropped the single-column indexes of the case's category, region and lead
    unit and of the event's case; look-ups by them (and the checks a deletion makes) still find
    an index beginning with the column, and the map's triggers survived (no table rebuild)."""
    import importlib

    from django.db import connection

    from cases import mapcells

    dropped = importlib.import_module("cases.migrations.0014_fewer_case_indexes").DROPPED
    with connection.cursor() as cursor:
        for table, column, index in dropped:
            constraints = connection.introspection.get_constraints(cursor, table)
            assert index not in constraints
            leading = [name for name, c in constraints.items() if c["index"] and c["columns"][:1] == [column]]
            assert leading, f"no index begins with {table}.{column}"
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'cases_case'"
            )
        else:
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = 'cases_case'::regclass AND NOT tgisinternal"
            )
        assert {row[0] for row in cursor.fetchall()} >= set(mapcells.TRIGGERS)


def test_status_and_action_labels_are_the_choices_labels():
    """The labels the detail shows (its own methods, not Django's, which rebuild the choices on
    every call): each value's label, an unknown stored value as it is."""
    from cases.models import CaseEvent, CasePart

    for model, field, choices in (
        (Case, "status", Case.Status),
        (CasePart, "status", CasePart.Status),
        (CaseEvent, "action", CaseEvent.Action),
    ):
        display = getattr(model, f"get_{field}_display")
        for value, label in choices.choices:
            assert display(model(**{field: value})) == label
        assert display(model(**{field: "no-such-value"})) == "no-such-value"


def test_the_planner_is_told_a_case_has_a_handful_of_events():
    """Migration 0015: on PostgreSQL the event table's case column carries ``n_distinct = -0.1``,
    so the detail's timeline looks its actors up by key instead of reading the user table (the
    plan ANALYZE's sampled estimate chose at 60 million events)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("column statistics are PostgreSQL's; the migration leaves SQLite alone")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT attoptions FROM pg_attribute "
            "WHERE attrelid = 'cases_caseevent'::regclass AND attname = 'case_id'"
        )
        assert cursor.fetchone()[0] == ["n_distinct=-0.1"]
