"""Keyset ("seek") pagination of the case list: newest first by report time, ties by id.

A page is the ``size`` cases after (or before) a cursor, the last (or first) case of the page the
person came from. The database seeks straight to the cursor in an index that starts with the
filtered columns and ends with ``reported_at, id`` (see ``Case.Meta.indexes``), so a page costs
the same on page 1 and on page 10,000, and no COUNT(*) of the whole result is needed.

The cursor is opaque to the browser: URL-safe base64 of the direction, the report time (epoch
microseconds) and the id. A cursor that does not decode raises ``ValidationError``.
"""

import base64
import binascii
import datetime as dt
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet

from .models import LIST_AT, Case

NEXT, PREVIOUS = "n", "p"
# The list shows "1,000+" past this many matching cases: counting further costs a scan.
COUNT_CAP = 1000
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
BAD_CURSOR = "翻页参数无效，请从第一页重新查询"


def encode(direction: str, case: Case) -> str:
    micros = (case.reported_at - EPOCH) // dt.timedelta(microseconds=1)
    raw = f"{direction}.{micros}.{case.pk}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str) -> tuple[str, dt.datetime, int]:
    """The direction, report time and id of a cursor; ValidationError when it is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
        direction, micros, pk = raw.split(".")
        if direction not in (NEXT, PREVIOUS):
            raise ValueError(direction)
        at = EPOCH + dt.timedelta(microseconds=int(micros))
        return direction, at, int(pk)
    except (ValueError, UnicodeDecodeError, binascii.Error, OverflowError, OSError) as exc:
        raise ValidationError(BAD_CURSOR, code="cursor") from exc


@dataclass
class Page:
    """One page of cases with the cursors of its neighbours (None at either end)."""

    rows: list[Case]
    size: int
    next_cursor: str | None = None
    previous_cursor: str | None = None
    count: int | None = None  # matching cases up to COUNT_CAP + 1 (None when not counted)
    extra: dict = field(default_factory=dict)

    def __iter__(self):
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def count_text(self) -> str:
        if self.count is None:
            return ""
        return f"{COUNT_CAP:,}+" if self.count > COUNT_CAP else f"{self.count:,}"


def paginate(qs: QuerySet[Case], cursor: str | None, size: int, *, count: bool = True) -> Page:
    """The page of ``qs`` (already filtered) after/before ``cursor``, newest first.

    One query for the rows (``size + 1`` fetched, the extra one tells whether a further page
    exists) and, when ``count``, one capped count.
    """
    # No ORDER BY: any COUNT_CAP + 1 matching rows will do, so the scan stops there.
    total = qs.order_by().values("pk")[: COUNT_CAP + 1].count() if count else None
    # The sort key: the report time, or its copy on the unit's parts for a unit's list.
    key = LIST_AT if LIST_AT in qs.query.annotations else "reported_at"
    if not cursor:
        rows = list(qs.order_by(f"-{key}", "-pk")[: size + 1])
        more = len(rows) > size
        rows = rows[:size]
        return Page(rows, size, encode(NEXT, rows[-1]) if more else None, None, total)
    direction, at, pk = decode(cursor)
    if direction == NEXT:
        # (reported_at, id) < (at, pk); the plain "<=" on the time lets the index seek.
        after = Q(**{f"{key}__lt": at}) | Q(**{key: at, "pk__lt": pk})
        rows = list(qs.filter(**{f"{key}__lte": at}).filter(after).order_by(f"-{key}", "-pk")[: size + 1])
        more = len(rows) > size
        rows = rows[:size]
        return Page(
            rows,
            size,
            encode(NEXT, rows[-1]) if more else None,
            encode(PREVIOUS, rows[0]) if rows else None,
            total,
        )
    before = Q(**{f"{key}__gt": at}) | Q(**{key: at, "pk__gt": pk})
    rows = list(qs.filter(**{f"{key}__gte": at}).filter(before).order_by(key, "pk")[: size + 1])
    more = len(rows) > size
    rows = rows[:size][::-1]
    return Page(
        rows,
        size,
        encode(NEXT, rows[-1]) if rows else None,
        encode(PREVIOUS, rows[0]) if more else None,
        total,
    )
