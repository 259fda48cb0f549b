"""ID numbers (GB 11643 check character), phone numbers, masking and text cleaning."""

import pytest
from django.core.exceptions import ValidationError

from volunteers.privacy import (
    clean_text,
    id_number_valid,
    mask_id_number,
    mask_name,
    mask_phone,
    normalize_id_number,
    normalize_phone,
)

from .factories import id_number


def test_id_number_check_character():
    assert id_number_valid("11010519491231002X")  # the standard's own example
    assert id_number_valid(id_number(7))
    assert not id_number_valid("110105194912310021")  # wrong check character
    assert not id_number_valid("11010519491231002")  # 17 characters
    assert normalize_id_number(" 11010519491231002x ") == "11010519491231002X"
    with pytest.raises(ValidationError, match="身份证"):
        normalize_id_number("1101051949123100ZX")


def test_phone_numbers():
    assert normalize_phone("+86 139-1234-5678", mobile_only=True) == "13912345678"
    assert normalize_phone("0827-5261234") == "08275261234"
    with pytest.raises(ValidationError):
        normalize_phone("0827-5261234", mobile_only=True)
    with pytest.raises(ValidationError):
        normalize_phone("12912345678")


def test_masks():
    assert mask_phone("13912345678") == "139****5678"
    assert mask_name("欧阳明") == "欧**" and mask_name("李") == "*"
    assert mask_id_number("11010519491231002X") == "1101**********002X"


def test_clean_text_drops_control_characters_and_checks_length():
    assert clean_text(" a\x00b\x1f ", 5, "说明") == "ab"
    with pytest.raises(ValidationError, match="不能超过 3"):
        clean_text("abcd", 3, "说明")
    with pytest.raises(ValidationError, match="请填写"):
        clean_text("\x00", 3, "说明", required=True)
