"""Rate limits per IP address and per phone number, counted in the shared cache."""

import pytest
from django.test import RequestFactory

from appeals.limits import Throttled, check
from appeals.models import RateCounter


def _request(ip="203.0.113.5"):
    return RequestFactory().post("/appeal/", REMOTE_ADDR=ip)


@pytest.mark.django_db
def test_the_ip_limit_holds_and_names_itself(settings):
    settings.APPEALS_RATE_LIMITS = {"submit": {"ip": "3/h", "phone": "100/h"}}
    for n in range(3):
        check(_request(), "submit", phone=f"1381234567{n}")
    with pytest.raises(Throttled) as info:
        check(_request(), "submit", phone="13900000000")
    assert str(info.value) == "提交过于频繁：同一网络地址每小时最多提交 3 次，请稍后再试。"
    check(_request(ip="198.51.100.7"), "submit", phone="13900000000")


@pytest.mark.django_db
def test_a_refusal_is_logged_with_the_address_never_the_phone(settings, caplog):
    settings.APPEALS_RATE_LIMITS = {"track": {"ip": "100/h", "phone": "1/m"}}
    check(_request("198.51.100.1"), "track", phone="13812345678")
    with caplog.at_level("WARNING", logger="appeals.limits"), pytest.raises(Throttled):
        check(_request("198.51.100.2"), "track", phone="13812345678")
    assert "rate limit: track refused for phone" in caplog.text and "13812345678" not in caplog.text


@pytest.mark.django_db
def test_the_phone_limit_holds_across_addresses(settings):
    settings.APPEALS_RATE_LIMITS = {"track": {"ip": "100/h", "phone": "2/m"}}
    check(_request("198.51.100.1"), "track", phone="13812345678")
    check(_request("198.51.100.2"), "track", phone="13812345678")
    with pytest.raises(Throttled) as info:
        check(_request("198.51.100.3"), "track", phone="13812345678")
    assert str(info.value) == "查询过于频繁：同一手机号每分钟最多查询 2 次，请稍后再试。"
    check(_request("198.51.100.3"), "track", phone="13912345678")


@pytest.mark.django_db
def test_a_limit_set_to_none_is_off_and_counts_nothing(settings):
    settings.APPEALS_RATE_LIMITS = {"read": {"ip": None}}
    for _ in range(5):
        check(_request(), "read")
    settings.APPEALS_RATE_LIMITS = {"read": {"ip": "1/h"}}
    check(_request(), "read")  # the first one counted: nothing was counted while the limit was off
    with pytest.raises(Throttled):
        check(_request(), "read")


@pytest.mark.django_db
def test_all_counters_of_an_attempt_cost_one_statement(settings):
    """One UPSERT for the IP and the phone counter together, not the cache's get/set."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.APPEALS_RATE_LIMITS = {"submit": {"ip": "20/h", "phone": "5/h"}}
    with CaptureQueriesContext(connection) as ctx:
        check(_request(), "submit", phone="13812345678")
    assert len(ctx.captured_queries) == 1
    assert "ON CONFLICT" in ctx.captured_queries[0]["sql"]
    # Keys are hashed: no phone number or address is stored.
    assert RateCounter.objects.count() == 2
    assert not RateCounter.objects.filter(name__contains="1381234").exists()
    assert sorted(RateCounter.objects.values_list("count", flat=True)) == [1, 1]


@pytest.mark.django_db
def test_old_windows_are_pruned_and_the_current_one_kept(settings):
    import time

    from appeals.limits import KEEP_SECONDS, prune

    check(_request(), "read")
    now = time.time()
    assert prune(now) == 0
    assert prune(now + KEEP_SECONDS + 3600 + 1) == 1
    assert not RateCounter.objects.exists()


def test_rates_are_parsed_with_their_periods():
    from appeals.limits import parse_rate

    assert parse_rate("5/h") == (5, 3600)
    assert parse_rate("100/10s") == (100, 10)
    assert parse_rate("1000000/s") == (1000000, 1)
    with pytest.raises(ValueError):
        parse_rate("five a day")


@pytest.fixture
def redis_url():
    """A real redis-server on a free loopback port, started for the test and stopped after it."""
    from bench.redis_server import RedisMissing, redis_server

    try:
        with redis_server() as url:
            yield url
    except RedisMissing as exc:  # raised before the server starts, never from the test
        pytest.skip(f"{exc}: Redis counters not tested")


def test_redis_counts_the_same_limits_in_one_round_trip(settings, redis_url):
    import redis

    settings.RATE_LIMIT_REDIS_URL = redis_url
    settings.APPEALS_RATE_LIMITS = {"track": {"ip": "100/h", "phone": "2/m"}}
    check(_request("198.51.100.1"), "track", phone="13812345678")
    check(_request("198.51.100.2"), "track", phone="13812345678")
    with pytest.raises(Throttled) as info:
        check(_request("198.51.100.3"), "track", phone="13812345678")
    assert str(info.value) == "查询过于频繁：同一手机号每分钟最多查询 2 次，请稍后再试。"
    check(_request("198.51.100.3"), "track", phone="13912345678")
    keys = redis.Redis.from_url(redis_url).keys("rl:*")
    # ip counters of three addresses, phone counters of two numbers; each expires with its window
    assert len(keys) == 5
    assert all(0 < redis.Redis.from_url(redis_url).ttl(k) <= 3601 for k in keys)


def _refused_attempts_count_nothing():
    """Two attempts on one phone allowed, the third refused and taken back from the phone's and
    the IP's counters: the IP still has its allowance, the phone stays at its limit."""
    check(_request(), "track", phone="13812345678")
    check(_request(), "track", phone="13812345678")
    for _ in range(3):
        with pytest.raises(Throttled):
            check(_request(), "track", phone="13812345678")
    check(_request(), "track", phone="13912345678")  # the IP's 3rd counted attempt of 3
    with pytest.raises(Throttled) as info:
        check(_request(), "track", phone="13700000000")
    assert "网络地址" in str(info.value)


@pytest.mark.django_db
def test_a_refused_attempt_is_taken_back_from_every_counter(settings):
    settings.APPEALS_RATE_LIMITS = {"track": {"ip": "3/h", "phone": "2/m"}}
    _refused_attempts_count_nothing()
    # Counted: the IP 3 (and the refused 4th taken back), the first phone 2, the second 1.
    assert sorted(RateCounter.objects.values_list("count", flat=True)) == [0, 1, 2, 3]


def test_redis_takes_a_refused_attempt_back_from_every_counter(settings, redis_url):
    import redis

    settings.RATE_LIMIT_REDIS_URL = redis_url
    settings.APPEALS_RATE_LIMITS = {"track": {"ip": "3/h", "phone": "2/m"}}
    _refused_attempts_count_nothing()
    server = redis.Redis.from_url(redis_url)
    assert sorted(int(server.get(k)) for k in server.keys("rl:*")) == [0, 1, 2, 3]
