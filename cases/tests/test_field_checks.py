"""Field verification 现场核查: a handled case of a field-verified category (or source) goes to
the grid's collector (else the reporting chief), who passes or fails it on site with a photo; the
dispatcher then closes a pass or reworks a fail; 按期核查率 counts the field check's moment."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import override_settings

from cases import metrics
from cases.models import Case, CaseEvent, CasePhoto, FieldCheck
from cases.services import (
    accept_case,
    allowed_actions,
    dispatch_case,
    field_check_case,
    handle_part,
    report_case,
    rework_case,
    verify_case,
)
from cases.tests.conftest import actor, at, jpeg
from org.errors import ActionRefused
from org.models import Role
from org.tests.factories import member

pytestmark = pytest.mark.django_db


def handled(w, reporter=None, where=None, source=None):
    lat, lng = where or w.in_grid
    case = report_case(
        actor(reporter or w.collector),
        category=w.road,
        description="人行道地砖破损",
        lat=lat,
        lng=lng,
        photos_uploaded=[jpeg()],
        source=source,
    )
    case = accept_case(actor(w.dispatcher), case)
    case = dispatch_case(actor(w.dispatcher), case, w.dept)
    return handle_part(actor(w.handler), case, [jpeg()], "已修复")


def check(w, case, user=None, passed=True, note="", where=None):
    lat, lng = where or w.in_grid
    return field_check_case(
        actor(user or w.collector), case, passed=passed, photos_uploaded=[jpeg()], lat=lat, lng=lng, note=note
    )


@pytest.fixture
def field(world, clock):
    world.road.field_verification = True
    world.road.save()
    return world


def test_desk_category_makes_no_field_check(world, clock):
    case = handled(world)
    assert case.status == Case.Status.HANDLED
    assert not FieldCheck.objects.exists()
    assert case.events.get(action=CaseEvent.Action.HANDLE).data == {}
    assert "field_check" not in allowed_actions(world.collector, case)
    verify_case(actor(world.dispatcher), case)
    assert Case.objects.get(pk=case.pk).status == Case.Status.CLOSED


def test_field_check_goes_to_grid_collector_then_dispatcher_closes(field, clock):
    w = field
    clock.set(at(2026, 3, 2, 9))
    case = handled(w, reporter=w.chief)
    task = FieldCheck.objects.get(case=case)
    assert (task.verifier, task.grid, task.status, task.round) == (w.collector, w.grid, "pending", 0)
    handled_event = case.events.get(action=CaseEvent.Action.HANDLE)
    assert handled_event.data == {"field_check_to": w.collector.pk}
    assert allowed_actions(w.collector, case) == ["field_check"]
    assert "verify" not in allowed_actions(w.dispatcher, case)
    with pytest.raises(ActionRefused):
        verify_case(actor(w.dispatcher), case)
    with pytest.raises(ActionRefused):
        rework_case(actor(w.dispatcher), case, "不行")

    clock.set(at(2026, 3, 2, 15))
    done = check(w, case)
    assert done.status == FieldCheck.Status.PASSED
    assert done.distance_m == 0.0
    case.refresh_from_db()
    assert case.status == Case.Status.HANDLED
    assert case.verified_at == at(2026, 3, 2, 15)
    event = case.events.get(action=CaseEvent.Action.FIELD_CHECK)
    assert (event.actor, event.actor_role, event.data["passed"], event.data["far"]) == (
        w.collector,
        Role.COLLECTOR,
        True,
        False,
    )
    assert case.photos.filter(kind=CasePhoto.Kind.CHECK, event=event).count() == 1

    clock.set(at(2026, 3, 3, 9))
    verify_case(actor(w.dispatcher), case)
    case.refresh_from_db()
    assert case.status == Case.Status.CLOSED
    # The verification is the field check's, not the dispatcher's closing moment.
    assert (case.verified_at, case.closed_at) == (at(2026, 3, 2, 15), at(2026, 3, 3, 9))


def test_failed_field_check_is_reworked_and_the_next_round_gets_a_new_task(field, clock):
    w = field
    case = handled(w)
    with pytest.raises(ValidationError):
        check(w, case, passed=False)  # a fail needs its reason
    check(w, case, passed=False, note="地砖仍松动")
    with pytest.raises(ActionRefused):
        verify_case(actor(w.dispatcher), case)
    assert allowed_actions(w.dispatcher, case) == ["rework"]
    case = rework_case(actor(w.dispatcher), case, "地砖仍松动")
    handle_part(actor(w.handler), case, [jpeg()], "重新铺设")
    rounds = list(FieldCheck.objects.filter(case=case).values_list("round", "status"))
    assert rounds == [(0, "failed"), (1, "pending")]


def test_second_check_other_verifier_and_bad_input_refused(field, clock):
    w = field
    case = handled(w)
    with pytest.raises(PermissionDenied):
        check(w, case, user=w.chief)  # not the verifier the task went to
    with pytest.raises(PermissionDenied):
        check(w, case, user=w.collector2)
    with pytest.raises(ValidationError):
        field_check_case(actor(w.collector), case, passed=True, photos_uploaded=[], lat=31.845, lng=106.73)
    check(w, case)
    with pytest.raises(ActionRefused):
        check(w, case)  # a second verification of the round
    assert FieldCheck.objects.get(case=case).status == "passed"
    assert case.events.filter(action=CaseEvent.Action.FIELD_CHECK).count() == 1


def test_far_check_is_flagged_not_refused(field, clock):
    w = field
    case = handled(w)
    check(w, case, where=("31.855000", "106.730000"))
    event = case.events.get(action=CaseEvent.Action.FIELD_CHECK)
    assert event.data["far"] is True
    assert 1100 < event.data["distance_m"] < 1120  # 0.01° of latitude


def test_without_grid_collector_the_reporting_chief_checks(field, clock):
    w = field
    w.grid.workers.clear()
    case = handled(w, reporter=w.chief)
    assert FieldCheck.objects.get(case=case).verifier == w.chief
    check(w, case, user=w.chief)
    assert FieldCheck.objects.get(case=case).status == "passed"


def test_nobody_to_check_falls_back_to_desk(field, clock):
    w = field
    w.grid.workers.clear()
    case = handled(w, reporter=w.inspector)
    assert not FieldCheck.objects.exists()
    verify_case(actor(w.dispatcher), case)


@override_settings(CASE_FIELD_VERIFICATION_SOURCES=("inspection",))
def test_source_setting_chooses_field_verification(world, clock):
    case = handled(world, reporter=world.inspector)
    assert FieldCheck.objects.get(case=case).verifier == world.collector
    other = handled(world)  # a collector's report of a desk category
    assert not FieldCheck.objects.filter(case=other).exists()


def test_verify_on_time_rate_follows_the_field_check(field, clock):
    """Handled Mon 2 Mar 09:00 (verification deadline: two working days, Wed 4 Mar 09:00). Case A
    checked on site Tue, closed Fri: on time. Case B checked on site Thu: late. Case C at the desk,
    closed Tue: on time. Hand count: 2 of 3."""
    w = field
    grid_chief = member(w.committee, Role.COLLECTOR, username="collector_b")
    clock.set(at(2026, 3, 2, 9))
    a, b = handled(w), handled(w)
    w.road.field_verification = False
    w.road.save()
    c = handled(w)
    clock.set(at(2026, 3, 3, 10))
    check(w, a)
    verify_case(actor(w.dispatcher), c)
    clock.set(at(2026, 3, 5, 10))
    check(w, b)
    clock.set(at(2026, 3, 6, 10))
    verify_case(actor(w.dispatcher), a)
    verify_case(actor(w.dispatcher), b)
    figures = metrics.compute(metrics.select(*metrics.month(2026, 3), at=at(2026, 3, 31, 12)))
    rate = figures["verify_on_time_rate"]
    assert (rate.numerator, rate.denominator) == (2, 3)
    behind = metrics.behind(metrics.select(*metrics.month(2026, 3)), "verify_on_time_rate")
    assert set(behind.values_list("pk", flat=True)) == {a.pk, c.pk}
    assert grid_chief.pk  # another collector of the committee, not in the grid: not the verifier
    assert set(FieldCheck.objects.values_list("verifier", flat=True)) == {w.collector.pk}


def test_a_grid_worker_who_reported_checks_their_own_report(field, clock):
    w = field
    w.grid.workers.add(w.chief)  # the chief works the grid too, after the collector
    case = handled(w, reporter=w.chief)
    assert FieldCheck.objects.get(case=case).verifier == w.chief
    other = handled(w, reporter=w.inspector)  # not a grid worker: the grid's collector
    assert FieldCheck.objects.get(case=other).verifier == w.collector


def test_verify_queue_cards_cost_the_same_queries_for_few_and_many(world, clock, client):
    from django.urls import reverse

    from cases.tests.test_query_budgets import add_cases, queries

    client.force_login(world.dispatcher)
    url = reverse("cases:verify_queue")

    def with_checks(cases):
        for case in cases[::2]:
            FieldCheck.objects.create(case=case, verifier=world.collector, assigned_at=case.handled_at)

    with_checks(add_cases(world, 2))
    few = queries(client, url)
    with_checks(add_cases(world, 6))
    page = client.get(url).content.decode()
    assert queries(client, url) == few
    assert page.count('class="field-check"') == 4  # the pending checks, shown on their cards
    assert page.count("核查通过，结案</button>") == 4  # the desk-verified cases only
