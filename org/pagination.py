"""The API lists' default pagination (settings.NINJA_PAGINATION_CLASS): django-ninja's
limit/offset with the offset bounded too, so ``?offset=10**30`` is a 422 and not a database
integer overflow (limit is bounded by NINJA_PAGINATION_MAX_LIMIT)."""

from typing import Annotated

from django.conf import settings
from ninja import Field, Schema
from ninja.pagination import LimitOffsetPagination

MAX_OFFSET = int(getattr(settings, "NINJA_PAGINATION_MAX_OFFSET", 1_000_000))


class BoundedLimitOffsetPagination(LimitOffsetPagination):
    class Input(Schema):
        limit: int = Field(
            settings.NINJA_PAGINATION_PER_PAGE,
            ge=1,
            le=int(getattr(settings, "NINJA_PAGINATION_MAX_LIMIT", 10_000)),
        )
        offset: int = Field(0, ge=0, le=MAX_OFFSET)


# A row id as the API takes it: positive and within the databases' 64-bit integers (a larger number
# would overflow the query instead of finding nothing).
RowId = Annotated[int, Field(ge=1, le=2**63 - 1)]
