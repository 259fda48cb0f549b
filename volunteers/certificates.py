"""Service certificate 志愿服务证明: a printable page with the volunteer's confirmed hours, orders and
activities as of the day it is issued, and a verification code anyone can check on the public page.

The code is the certificate's content signed with the project's secret (``django.core.signing``),
so verifying needs no stored row and a changed figure fails the check. The page can be printed
from the browser; ``render_pdf`` makes the same certificate a PDF file (``org.pdf``).
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.core import signing
from django.db.models import Count, Sum
from django.utils import timezone

from org import pdf

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


def render_pdf(certificate: Certificate, verify_url: str) -> bytes:
    """The certificate as a PDF with the same wording as the page (the name masked as there)."""
    st = pdf.styles()
    on = f"{certificate.issued_on.year}年{certificate.issued_on.month}月{certificate.issued_on.day}日"
    story = [
        pdf.Paragraph("志愿服务证明", st["title"]),
        pdf.Spacer(1, 12),
        pdf.Paragraph(
            pdf.escape(
                f"兹证明志愿者 {certificate.name}（志愿者编号 {certificate.number}）截至 {on}，在巴州区新时代文明"
                f"实践志愿服务中累计经确认服务时长 {certificate.hours:.2f} 小时，参与群众点单服务 "
                f"{certificate.orders} 单、志愿服务活动 {certificate.activities} 次。"
            ),
            st["body"],
        ),
        pdf.Paragraph("特此证明。", st["body"]),
        pdf.Spacer(1, 12),
        pdf.Paragraph("巴州区新时代文明实践中心", st["right"]),
        pdf.Paragraph(on, st["right"]),
        pdf.Spacer(1, 24),
        pdf.Paragraph(pdf.escape(f"核验码：{certificate.code}"), st["small"]),
        pdf.Paragraph(pdf.escape(f"核验地址：{verify_url}"), st["small"]),
    ]
    return pdf.build(story, title="志愿服务证明", author="巴州区新时代文明实践中心", page_numbers=False)
