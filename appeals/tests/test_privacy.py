"""Masking and normalising citizens' contact details."""

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from appeals.models import CODE_ALPHABET, clean_tracking_code, new_tracking_code
from appeals.privacy import mask_name, mask_phone, may_see_contact, normalize_phone
from org.models import Role
from org.tests.factories import UnitFactory, member


@pytest.mark.parametrize(
    ("raw", "digits"),
    [
        ("13812345678", "13812345678"),
        ("138 1234 5678", "13812345678"),
        ("+86 138-1234-5678", "13812345678"),
        ("0086 13812345678", "13812345678"),
        ("0827-5261234", "08275261234"),
        ("(0827)5261234", "08275261234"),
    ],
)
def test_normalize_phone_keeps_digits(raw, digits):
    assert normalize_phone(raw) == digits


@pytest.mark.parametrize("raw", ["", "12345", "12812345678", "1381234567", "138123456789", "abc13812345678"])
def test_normalize_phone_refuses_what_is_not_a_phone_number(raw):
    with pytest.raises(ValidationError) as info:
        normalize_phone(raw)
    assert info.value.messages == ["请填写正确的手机号或带区号的固定电话"]


def test_mask_phone_keeps_prefix_and_last_four():
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("08275261234") == "082****1234"
    assert mask_phone("") == ""


@given(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True))
def test_a_masked_mobile_never_contains_the_middle_digits(phone):
    masked = mask_phone(phone)
    assert len(masked) == len(phone)
    assert masked[3:7] == "****"
    assert phone not in masked


def test_mask_name_keeps_only_the_first_character():
    assert mask_name("张三") == "张*"
    assert mask_name("欧阳娜娜") == "欧***"
    assert mask_name("王") == "*"
    assert mask_name("") == ""


@pytest.mark.django_db
def test_only_dispatchers_see_contact_details():
    unit = UnitFactory()
    assert may_see_contact(member(unit, Role.DISPATCHER))
    for role in (Role.HQ_ADMIN, Role.HANDLER, Role.LEADER, Role.INSPECTOR, Role.COLLECTOR):
        assert not may_see_contact(member(unit, role)), role


def test_new_tracking_codes_use_only_unambiguous_characters():
    codes = {new_tracking_code() for _ in range(200)}
    assert len(codes) == 200
    assert all(len(c) == 10 and set(c) <= set(CODE_ALPHABET) for c in codes)
    assert not set(CODE_ALPHABET) & set("01OIL")


@given(
    st.text(alphabet=CODE_ALPHABET, min_size=10, max_size=10),
    st.sampled_from(["", " ", "-", " - "]),
    st.booleans(),
)
def test_a_tracking_code_survives_how_people_type_it(code, separator, lower):
    typed = f" {code[:5]}{separator}{code[5:]} "
    assert clean_tracking_code(typed.lower() if lower else typed) == code
