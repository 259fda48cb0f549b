"""Rate limits per IP address and per phone number, counted in the shared cache."""

import pytest
from django.test import RequestFactory

from appeals.limits import Throttled, check


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
