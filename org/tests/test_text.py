"""Text input checked before the database (issue 13, item 2): the helper, the pre_save guard on
every model, and the org API. PostgreSQL refuses NUL bytes and over-long values with a 500; these
tests run on SQLite, which would store them, so they prove the refusal happens before."""

import pytest
from django.core.exceptions import ValidationError

from org.models import ApiToken, Role, Unit
from org.tests.factories import UnitFactory, member
from org.text import clean_text


def test_clean_text_strips_and_keeps_line_breaks_where_multiline():
    assert clean_text("  路面破损\r\n第二行\t ", 20, "描述") == "路面破损\n第二行"
    assert clean_text("文化路\n12 号", 20, "地址", multiline=False) == "文化路 12 号"
    assert clean_text(None, 5, "备注") == ""


@pytest.mark.parametrize("bad", ["a\x00b", "\x07", "x\x1b[31m", "\x7f", "\x85", "\ud800"])
def test_clean_text_refuses_control_characters_in_chinese(bad):
    with pytest.raises(ValidationError, match="地址含有不允许的控制字符"):
        clean_text(bad, 200, "地址")


def test_clean_text_checks_the_length():
    assert clean_text("字" * 200, 200, "地址") == "字" * 200
    with pytest.raises(ValidationError, match="地址不能超过 200 字"):
        clean_text("字" * 201, 200, "地址")


@pytest.mark.django_db
def test_no_model_saves_a_nul_byte_or_an_over_long_value():
    with pytest.raises(ValidationError, match="名称含有不允许的控制字符"):
        UnitFactory(name="城管\x00局")
    with pytest.raises(ValidationError, match="名称不能超过 100 字"):
        UnitFactory(name="局" * 101)
    assert not Unit.objects.exists()


@pytest.mark.django_db
def test_the_token_api_refuses_a_nul_byte_in_the_name(client):
    person = member(
        UnitFactory(code="C1", kind=Unit.Kind.COMMUNITY_COMMITTEE), Role.COLLECTOR, username="zhou"
    )
    client.force_login(person)
    for name in ("平板\x00", "板" * 300):
        response = client.post(
            "/api/v1/org/tokens", {"name": name, "days": 30}, content_type="application/json"
        )
        assert response.status_code == 400, response.content
        assert "名称" in response.json()["detail"]
    assert not ApiToken.objects.exists()
