"""Citizens' contact details (联系方式): normalising, masking, and who may read them in full.

Phone numbers and names are masked for every role except those that must call the citizen back:
dispatchers (受理派遣员), who also take the hotline and enter appeals as clerks. Every full read is
written to the audit log by ``appeals.services.read_contact``.
"""

import re

from django.core.exceptions import ValidationError

from org.models import Role
from org.scope import scope_for

# Roles that work with appeals on the staff pages and the API (contact details masked).
STAFF_ROLES = (Role.HQ_ADMIN, Role.DISPATCHER, Role.HANDLER, Role.LEADER, Role.INSPECTOR)
# Roles that call citizens back (回访) and therefore see their phone number and name in full.
CONTACT_ROLES = frozenset({Role.DISPATCHER})

_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{9,11}$")


def normalize_phone(value: str) -> str:
    """The digits of a Chinese mobile or landline number (``+86``, spaces and dashes dropped)."""
    digits = re.sub(r"[\s\-()（）]", "", value or "")
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    if not (_MOBILE.match(digits) or _LANDLINE.match(digits)):
        raise ValidationError("请填写正确的手机号或带区号的固定电话", code="phone")
    return digits


def mask_phone(phone: str) -> str:
    """138****5678: the first three and last four digits stay, so a caller can recognise the number."""
    if not phone:
        return ""
    if len(phone) >= 11:
        return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]
    if len(phone) >= 7:
        return phone[:2] + "*" * (len(phone) - 4) + phone[-2:]
    return "*" * len(phone)


def mask_name(name: str) -> str:
    """张* / 欧阳** : the surname's first character only; a one-character name is hidden entirely."""
    if not name:
        return ""
    if len(name) == 1:
        return "*"
    return name[0] + "*" * (len(name) - 1)


def may_see_contact(user) -> bool:
    """True for the roles that call citizens back; everyone else sees masked details."""
    if not getattr(user, "is_authenticated", False):
        return False
    return scope_for(user).has_role(*CONTACT_ROLES)
