"""Service certificate 志愿服务证明: a printable page with the volunteer's confirmed hours, orders and
activities as of the day it is issued, and a verification code anyone can check on the public page.

The code is the certificate's content signed with the project's secret (``django.core.signing``),
so verifying needs no stored row and a changed figure fails the check. The page is printed (or
saved as PDF) from the browser; the project has no PDF library yet.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.core import signing
from django.db.models import Count, Sum
from django.utils import timezone

from .models import Volunteer

SALT = "volunteers.certificate"


@dataclass(frozen=True)
class Certificate:
    number: str
    name: str
    hours: Decimal
    orders: int
    activities: int
    issued_on: dt.date
    code: str


def issue(volunteer: Volunteer) -> Certificate:
    """The certificate of ``volunteer`` as of today. The name on it is masked: the page may be shown
    to anyone the volunteer hands it to."""
    confirmed = volunteer.attendances.filter(confirmed_at__isnull=False).aggregate(
        h=Sum("hours"), orders=Count("order", distinct=True), activities=Count("activity", distinct=True)
    )
    payload = {
        "n": volunteer.number,
        "m": volunteer.masked_name,
        "h": str(confirmed["h"] or Decimal("0.00")),
        "o": confirmed["orders"],
        "a": confirmed["activities"],
        "d": timezone.localdate().isoformat(),
    }
    return _certificate(payload, signing.dumps(payload, salt=SALT, compress=True))


def verify(code: str) -> Certificate | None:
    """The certificate a code was issued for, or None when the code is not one of ours."""
    try:
        payload = signing.loads((code or "").strip(), salt=SALT)
    except signing.BadSignature:
        return None
    return _certificate(payload, code.strip())


def _certificate(payload: dict, code: str) -> Certificate:
    return Certificate(
        number=payload["n"],
        name=payload["m"],
        hours=Decimal(payload["h"]),
        orders=payload["o"],
        activities=payload["a"],
        issued_on=dt.date.fromisoformat(payload["d"]),
        code=code,
    )
