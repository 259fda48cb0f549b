"""Signing in and out, and login throttling (django-axes)."""

import pytest

from org.tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_sign_in_lands_on_home_and_sign_out_returns_to_login(client):
    UserFactory(username="zhang", display_name="张三")
    response = client.post("/login/", {"username": "zhang", "password": TEST_PASSWORD}, follow=True)
    assert response.redirect_chain == [("/", 302)]
    assert "您好，张三" in response.content.decode()
    response = client.post("/logout/", follow=True)
    assert response.redirect_chain[-1][0] == "/login/"
    assert client.get("/").status_code == 302


def test_login_goes_on_to_the_page_asked_for(client):
    UserFactory(username="zhang")
    response = client.post(
        "/login/?next=/org/tokens/", {"username": "zhang", "password": TEST_PASSWORD, "next": "/org/tokens/"}
    )
    assert response["Location"] == "/org/tokens/"


def test_repeated_failures_lock_the_account_on_that_address(client, settings):
    UserFactory(username="zhang")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/login/", {"username": "zhang", "password": "wrong"}, REMOTE_ADDR="10.0.0.5")
    response = client.post(
        "/login/", {"username": "zhang", "password": TEST_PASSWORD}, REMOTE_ADDR="10.0.0.5"
    )
    assert response.status_code == 429
    assert "登录已暂时锁定" in response.content.decode()
    assert client.get("/").status_code == 302  # not signed in
