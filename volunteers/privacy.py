"""Real-name data 实名信息: checking, masking and cleaning.

Names, ID numbers and phone numbers are shown masked everywhere; authorised staff read one
volunteer's or one order's details in full through ``services.read_real_name`` /
``services.read_order_contact``, which write an audit record per read.

The masking rules are the ones ``appeals.privacy`` applies to citizens (kept here because
``volunteers`` sits beside ``appeals`` in the layers; they belong in ``org`` once a third app needs
them).
"""

import re

from django.core.exceptions import ValidationError

_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{9,11}$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

# GB 11643-1999: weights of the first 17 digits and the check character for sum mod 11.
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_SHAPE = re.compile(r"^\d{17}[\dX]$")


def clean_text(value: str, max_length: int, what: str, *, required: bool = False) -> str:
    """Strip control characters (PostgreSQL refuses NUL) and surrounding space; check the length."""
    text = _CONTROL.sub("", value or "").strip()
    if required and not text:
        raise ValidationError(f"请填写{what}")
    if len(text) > max_length:
        raise ValidationError(f"{what}不能超过 {max_length} 个字")
    return text


def normalize_phone(value: str, *, mobile_only: bool = False) -> str:
    """The digits of a Chinese mobile (or, unless ``mobile_only``, landline) number."""
    digits = re.sub(r"[\s\-()（）]", "", value or "")
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    if _MOBILE.match(digits) or (not mobile_only and _LANDLINE.match(digits)):
        return digits
    raise ValidationError("请填写正确的手机号" if mobile_only else "请填写正确的手机号或带区号的固定电话")


def id_number_valid(value: str) -> bool:
    """True for an 18-character resident ID number whose check character fits (GB 11643)."""
    if not _ID_SHAPE.match(value):
        return False
    total = sum(int(d) * w for d, w in zip(value[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == value[17]


def normalize_id_number(value: str) -> str:
    number = (value or "").strip().upper()
    if not id_number_valid(number):
        raise ValidationError("身份证号码不正确（应为 18 位，且校验位符合国家标准）")
    return number


def mask_phone(phone: str) -> str:
    """138****5678."""
    if not phone:
        return ""
    if len(phone) >= 11:
        return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]
    if len(phone) >= 7:
        return phone[:2] + "*" * (len(phone) - 4) + phone[-2:]
    return "*" * len(phone)


def mask_name(name: str) -> str:
    """张* / 欧阳**: the first character only; a one-character name is hidden entirely."""
    if not name:
        return ""
    if len(name) == 1:
        return "*"
    return name[0] + "*" * (len(name) - 1)


def mask_id_number(number: str) -> str:
    """5119**********123X: region prefix and the last four stay."""
    if len(number) < 8:
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]
