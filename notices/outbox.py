"""The outbox 发件箱: ``notify`` writes a notice in the transaction of the event that causes it.

The caller (a step of another app, or a periodic sweep) names the event kind, the people to tell,
the units whose group robots to tell, the message context, the link to act on it and an
idempotency key. ``notify`` writes the notice, one inbox receipt per person and one pending
delivery per outside channel (the units' robots, each person's e-mail or SMS as they chose); the
worker sends the deliveries after the commit. If the step rolls back, so does its notice; a key
already used writes nothing (the event was told), so a sweep run twice tells nobody twice.

Messages never carry a citizen's name or phone: contexts hold case numbers, categories, places
and units, and every rendered text goes through ``scrub`` (mobile numbers masked) in case a
free-text reason typed by staff quotes one.
"""

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from org.models import Unit, User

from .kinds import template
from .models import Channel, Delivery, Notice, Preference, Receipt, Robot, UnitPreference

MOBILE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?1[3-9]\d[- ]?\d{4}[- ]?\d{4}(?!\d)")
MASK = "[号码已隐去]"


def scrub(text: str) -> str:
    """Mask anything that looks like a mainland mobile number."""
    return MOBILE.sub(MASK, text)


class _Context(dict):
    def __missing__(self, key: str) -> str:
        return ""


def render(kind: str, context: Mapping[str, Any]) -> tuple[str, str]:
    """The notice's title and body from the kind's template (missing values render empty)."""
    tpl = template(kind)
    values = _Context({k: "" if v is None else str(v) for k, v in context.items()})
    title = scrub(tpl.title.format_map(values))[: Notice._meta.get_field("title").max_length]
    body = scrub(tpl.body.format_map(values))[: Notice._meta.get_field("body").max_length]
    return title, body


def after_quiet_hours(moment: dt.datetime, start: dt.time | None, end: dt.time | None) -> dt.datetime:
    """``moment``, or the end of the quiet hours it falls in (start may be after end: overnight)."""
    if start is None or end is None or start == end:
        return moment
    local = timezone.localtime(moment)
    now = local.time()
    inside = start <= now < end if start < end else (now >= start or now < end)
    if not inside:
        return moment
    day = local.date() if now < end else local.date() + dt.timedelta(days=1)
    return timezone.make_aware(dt.datetime.combine(day, end), timezone.get_current_timezone())


def notify(
    kind: str,
    recipients: Iterable[User],
    context: Mapping[str, Any],
    link: str,
    key: str,
    *,
    units: Iterable[Unit] = (),
    external: bool = True,
) -> Notice | None:
    """Tell ``recipients`` (inbox, and e-mail/SMS as each chose) and ``units`` (their group robots)
    of an event; ``external=False`` keeps it to the inbox. Returns the notice, or None when the
    key was already used. Call it inside the event's transaction."""
    if Notice.objects.filter(key=key).exists():
        return None
    units = list({u.pk: u for u in units}.values())
    people = list({u.pk: u for u in recipients if u is not None and u.is_active}.values())
    tpl = template(kind)
    title, body = render(kind, context)
    now = timezone.now()
    try:
        # One unit with its receipts and deliveries: a savepoint inside the event's transaction,
        # a transaction of its own when a periodic job calls this in autocommit.
        with transaction.atomic():
            notice = Notice.objects.create(
                kind=kind,
                key=key[:200],
                title=title,
                body=body,
                link=link[:300],
                urgent=tpl.urgent,
                unit=units[0] if units else None,
                created_at=now,
            )
            if people:
                Receipt.objects.bulk_create([Receipt(notice=notice, user=u) for u in people])
            rows = _deliveries(notice, people, units, now) if external else []
            if rows:
                Delivery.objects.bulk_create(rows)
    except IntegrityError:
        return None  # the same key written by a concurrent transaction: told once
    return notice


def _deliveries(notice: Notice, people: list[User], units: list[Unit], now: dt.datetime) -> list[Delivery]:
    rows: list[Delivery] = []
    if people:
        prefs = {p.user_id: p for p in Preference.objects.filter(user__in=people)}
        for person in people:
            pref = prefs.get(person.pk)
            if pref is None or notice.kind in pref.muted:
                continue
            when = now if notice.urgent else after_quiet_hours(now, pref.quiet_start, pref.quiet_end)
            for channel, wanted, address in (
                (Channel.EMAIL, pref.email, person.email),
                (Channel.SMS, pref.sms, person.phone),
            ):
                if wanted and address:
                    rows.append(_delivery(notice, channel, when, user=person))
    robots = (
        [r for r in Robot.objects.filter(unit__in=units, is_active=True) if r.wants(notice.kind)]
        if units
        else []
    )
    if robots:
        unit_prefs = {p.unit_id: p for p in UnitPreference.objects.filter(unit__in=units)}
        for robot in robots:
            up = unit_prefs.get(robot.unit_id)
            when = now
            if up is not None and not notice.urgent:
                when = after_quiet_hours(now, up.quiet_start, up.quiet_end)
            rows.append(_delivery(notice, robot.channel, when, robot=robot))
    return rows


def _delivery(
    notice: Notice, channel: str, when: dt.datetime, *, user: User | None = None, robot: Robot | None = None
) -> Delivery:
    target = f"r{robot.pk}" if robot is not None else f"u{user.pk if user else ''}"
    return Delivery(
        notice=notice,
        key=f"{notice.pk}:{channel}:{target}",
        channel=channel,
        robot=robot,
        user=user,
        next_attempt_at=when,
    )
