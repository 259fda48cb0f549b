"""``org.compiled.insert``: a new row saved as ``save()`` would, through a statement built once."""

import pytest
from django.db.models import F
from django.db.models.signals import post_save, pre_save

from org.compiled import insert
from org.models import ApiToken, AuditLog, Region, Unit
from org.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_insert_saves_the_row_as_save_would_with_field_defaults_and_signals():
    user = UserFactory()
    seen = []

    def on_pre(sender, instance, **kwargs):
        seen.append(("pre", instance.pk))

    def on_post(sender, instance, created, **kwargs):
        seen.append(("post", instance.pk, created))

    pre_save.connect(on_pre, sender=ApiToken)
    post_save.connect(on_post, sender=ApiToken)
    try:
        token = insert(ApiToken(user=user, name="手机", prefix="abcd1234", key_hash="h" * 64))
    finally:
        pre_save.disconnect(on_pre, sender=ApiToken)
        post_save.disconnect(on_post, sender=ApiToken)
    assert token.pk is not None and not token._state.adding
    assert seen == [("pre", None), ("post", token.pk, True)]
    stored = ApiToken.objects.get(pk=token.pk)
    assert (stored.user, stored.name, stored.key_hash) == (user, "手机", "h" * 64)
    assert stored.created_at is not None and stored.created_at == token.created_at  # auto_now_add
    # The statement is kept: a second row goes in through it with its own values.
    second = insert(ApiToken(user=user, name="平板", prefix="efgh5678", key_hash="k" * 64))
    assert second.pk != token.pk
    assert ApiToken.objects.get(pk=second.pk).name == "平板"


def test_insert_stores_json_and_defaults_like_the_orm():
    entry = insert(AuditLog(action="test.insert", summary="插入", data={"键": [1, "二"]}))
    stored = AuditLog.objects.get(pk=entry.pk)
    assert stored.data == {"键": [1, "二"]} and stored.at == entry.at


def test_insert_refuses_an_expression_and_writes_nothing():
    with pytest.raises(TypeError, match="expression"):
        insert(Region(code="X", name=F("code"), level=Region.Level.DISTRICT, path="/X/"))
    assert not Region.objects.filter(code="X").exists()


def test_rows_together_answers_each_query_as_rows_would_and_surfaces_errors():
    from django.db import DatabaseError, connection, transaction

    from org.compiled import compiled, rows_together
    from org.tests.factories import RegionFactory, UnitFactory

    district = RegionFactory(code="D", level=Region.Level.DISTRICT)
    for code in ("S2", "S1"):
        RegionFactory(code=code, level=Region.Level.STREET, parent=district)
    UnitFactory(code="U1", name="区城管局", region=district)
    by_level = compiled(
        ("test.regions_by_level",),
        lambda m: Region.objects.filter(level=m[0]).order_by("code").values("code"),
        ["~level-marker~"],
    )
    by_code = compiled(
        ("test.unit_by_code",), lambda m: Unit.objects.filter(code=m[0]).values("name"), ["~code-marker~"]
    )
    calls = [(by_level, ["street"]), (by_code, ["U1"]), (by_code, ["none"]), (by_level, ["district"])]
    assert rows_together(calls) == [
        [{"code": "S1"}, {"code": "S2"}],
        [{"name": "区城管局"}],
        [],
        [{"code": "D"}],
    ]
    assert rows_together([]) == []
    by_pk = compiled(
        ("test.region_by_pk",), lambda m: Region.objects.filter(pk=m[0]).values("code"), [-7_310_999]
    )
    if connection.vendor == "postgresql":
        # A statement the server refuses fails the call as Django's error; the connection goes on.
        with pytest.raises(DatabaseError), transaction.atomic():
            rows_together([(by_level, ["street"]), (by_pk, ["not a number"])])
    assert rows_together([(by_pk, [district.pk])]) == [[{"code": "D"}]]


def test_compiled_queries_health_check_a_reused_connection_once_a_request_as_django_cursors_do(monkeypatch):
    """With ``CONN_HEALTH_CHECKS`` a persistent connection is checked before a request's first
    statement and replaced if the server dropped it; a request whose statements are all compiled
    ones (an API detail, Open311's rows) is checked too, once."""
    from django.db import DEFAULT_DB_ALIAS, connections

    from org.compiled import compiled, rows_together
    from org.postgresql import base as postgresql
    from org.tests.factories import RegionFactory

    connection = connections[DEFAULT_DB_ALIAS]  # the wrapper itself, not the proxy, to patch
    district = RegionFactory(code="D", level=Region.Level.DISTRICT)
    by_pk = compiled(
        ("test.region_by_pk",), lambda m: Region.objects.filter(pk=m[0]).values("code"), [-7_310_999]
    )
    connection.ensure_connection()
    asked: list[str] = []
    closed: list[str] = []

    def dropped(*args) -> bool:
        asked.append("checked")
        return False  # the server dropped it

    # A new request on a reused connection that has since been dropped (``close`` only noted: the
    # test's own transaction stays open). SQLite's check is Django's ``is_usable``, PostgreSQL's
    # ``org.postgresql``'s.
    monkeypatch.setattr(connection, "health_check_enabled", True)
    monkeypatch.setattr(connection, "health_check_done", False)
    monkeypatch.setattr(connection, "is_usable", dropped)
    monkeypatch.setattr(postgresql, "still_open", dropped)
    monkeypatch.setattr(connection, "close", lambda: closed.append("closed"))
    assert rows_together([(by_pk, [district.pk])]) == [[{"code": "D"}]]
    assert (asked, closed) == (["checked"], ["closed"])
    assert by_pk.rows([district.pk]) == [{"code": "D"}]
    insert(AuditLog(action="test.health", summary="检查"))
    assert (asked, closed) == (["checked"], ["closed"])  # once a request


def test_the_health_check_finds_a_connection_the_server_ended_without_a_statement():
    """``org.postgresql``: a live idle connection passes without a round trip; one whose server
    process was ended is found by its socket and replaced, and the next statement runs."""
    import select

    from django.db import connection, connections

    if connection.vendor != "postgresql":
        pytest.skip("the check is the PostgreSQL backend's; SQLite has no server to lose")
    from org.postgresql.base import still_open

    other = connections.create_connection("default")
    try:
        other.ensure_connection()
        assert type(other).__module__ == "org.postgresql.base"
        pid = other.connection.info.backend_pid

        def unasked(*args):
            raise AssertionError("the health check sent a statement")

        other.is_usable = unasked  # type: ignore[method-assign]
        other.health_check_enabled, other.health_check_done = True, False
        other.close_if_health_check_failed()
        assert other.connection is not None and other.health_check_done  # live: kept, nothing sent
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
            assert cursor.fetchone() == (True,)
        # The server's goodbye arrives on the socket (waited for, up to 10 s).
        poller = select.poll()
        poller.register(other.connection.pgconn.socket, select.POLLIN)
        assert poller.poll(10_000)
        assert not still_open(other.connection)
        other.health_check_done = False  # the next request
        other.close_if_health_check_failed()
        assert other.connection is None  # replaced, not used
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            assert cursor.fetchone()[0] != pid
    finally:
        other.close()


def test_a_compiled_query_writes_its_own_constants_into_its_text_on_postgresql():
    """The query's constants (here a pattern with a percent sign, a quote and a backslash, and a
    choice) become literals, so PostgreSQL's one plan for every run can use what they say (a
    partial index's condition); the callers' arguments stay parameters. The rows are the same."""
    from django.db import connection

    from org.compiled import compiled
    from org.tests.factories import RegionFactory, UnitFactory

    district = RegionFactory(code="D", level=Region.Level.DISTRICT)
    UnitFactory(code="U1", name="50%'s \\ 区城管局", region=district, kind=Unit.Kind.DEPARTMENT)
    UnitFactory(code="U2", name="50%'s \\ 区城管局", region=district, kind=Unit.Kind.ENTERPRISE)
    UnitFactory(code="U3", name="区城管局", region=district, kind=Unit.Kind.DEPARTMENT)
    query = compiled(
        ("test.units_named",),
        lambda m: Unit.objects.filter(
            name__contains="50%'s \\", kind=Unit.Kind.DEPARTMENT, region__code=m[0]
        ).values("code"),
        ["~region-marker~"],
    )
    assert query.rows(["D"]) == [{"code": "U1"}]
    assert query.rows(["X"]) == []
    if connection.vendor == "postgresql":
        assert query.params == ["~region-marker~"] and query.sql.count("%s") == 1
        assert "'department'" in query.sql


def test_insert_all_writes_rows_that_refer_to_one_with_a_drawn_id_and_fails_whole():
    """Rows sent together (one round trip on PostgreSQL): a unit and the region it belongs to,
    whose id was set before either was written; a refused row fails the block's transaction."""
    from django.db import IntegrityError, connection, transaction

    from org.compiled import insert_all

    drawn = (Region.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1000
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT nextval(pg_get_serial_sequence('org_region', 'id'))")
            drawn = cursor.fetchone()[0]
    region = Region(pk=drawn, code="D9", name="九区", level=Region.Level.DISTRICT, path="/D9/")
    unit = Unit(code="U9", name="九区城管局", region=region)
    entry = AuditLog(action="test.insert_all", summary="两行")
    insert_all([region, unit, entry])
    assert region.pk == drawn and unit.pk is not None and entry.pk is not None
    assert not region._state.adding and not unit._state.adding
    assert Unit.objects.get(pk=unit.pk).region_id == drawn == Region.objects.get(code="D9").pk

    with pytest.raises(IntegrityError), transaction.atomic():
        insert_all([AuditLog(action="test.kept?"), Unit(code="U9", name="重复编码", region=region)])
    assert not AuditLog.objects.filter(action="test.kept?").exists()
    assert Unit.objects.filter(code="U9").count() == 1


def test_instance_builds_the_object_from_db_would_and_lets_init_receivers_run():
    from django.db.models.signals import post_init

    from org.compiled import columns, instance
    from org.tests.factories import RegionFactory

    region = RegionFactory(code="D", level=Region.Level.DISTRICT)
    row = Region.objects.filter(pk=region.pk).values(*columns(Region)).get()
    built = instance(Region, "default", row)
    expected = Region.from_db(
        "default", [f.attname for f in Region._meta.concrete_fields], list(row.values())
    )

    def fields(obj):
        return {k: v for k, v in vars(obj).items() if k != "_state"}

    assert (
        fields(built)
        == fields(expected)
        == {f.attname: getattr(region, f.attname) for f in Region._meta.concrete_fields}
    )
    assert (built._state.adding, built._state.db) == (False, "default") and built == region
    built.name = "改名"
    built.save()  # an update, not an insert
    assert Region.objects.get(pk=region.pk).name == "改名" and Region.objects.filter(code="D").count() == 1
    seen = []

    def on_init(sender, instance, **kwargs):
        seen.append(instance.code)

    post_init.connect(on_init, sender=Region)
    try:
        instance(Region, "default", row)
    finally:
        post_init.disconnect(on_init, sender=Region)
    assert seen == ["D"]


def test_datetimes_are_read_by_psycopgs_compiled_loader_with_the_values_djangos_gives():
    """``org.db.native_timestamptz_loader``: on PostgreSQL a ``timestamptz`` is parsed by
    psycopg's compiled loader, into the value Django's own loader gives (aware, in UTC)."""
    import datetime as dt

    from django.db import connection
    from django.db.backends.postgresql.psycopg_any import register_tzloader

    if connection.vendor != "postgresql":
        pytest.skip("psycopg's loaders are PostgreSQL's; SQLite's datetimes are Django's own")
    from psycopg import DataError, adapters
    from psycopg.pq import Format

    connection.ensure_connection()
    oid = adapters.types["timestamptz"].oid
    ours = connection.connection.adapters.get_loader(oid, Format.TEXT)
    assert ours.__name__ == "NativeTzLoader" and ours.timezone == connection.timezone

    class Djangos:  # the loader Django registers, in a throwaway map
        adapters = type(connection.connection.adapters)(connection.connection.adapters)

    register_tzloader(connection.timezone, Djangos)
    theirs = Djangos.adapters.get_loader(oid, Format.TEXT)
    assert theirs is not ours
    samples = [
        b"2026-12-03 18:34:51.102898+00",
        b"2026-02-28 23:59:59+00",
        b"1901-02-03 04:05:06.5+00",
        b"0001-01-01 00:00:00+00",
        b"9999-12-31 23:59:59.999999+00",
    ]
    for data in samples:
        got = ours(oid, connection.connection).load(data)
        assert got == theirs(oid, connection.connection).load(data)
        assert got.tzinfo is dt.UTC and got.utcoffset() == dt.timedelta(0)
    for loader in (ours, theirs):
        with pytest.raises(DataError):
            loader(oid, connection.connection).load(b"infinity")
    # Through the ORM, a stored moment comes back as it went in.
    moment = dt.datetime(2026, 12, 3, 18, 34, 51, 102898, tzinfo=dt.UTC)
    entry = AuditLog.objects.create(action="test.moment", summary="时间", at=moment)
    assert AuditLog.objects.values_list("at", flat=True).get(pk=entry.pk) == moment
