"""Text input, checked once before it reaches the database (文本输入校验).

PostgreSQL refuses a NUL byte in text and JSON and raises an error for a value longer than its
column; SQLite stores both silently. So every text value is checked here, the same on both
databases, and a bad one is a ``ValidationError`` (400) with a message in Chinese:

- ``clean_text(value, max_length, what)`` for one value: refuses NUL bytes, other control
  characters (a tab and line breaks are kept where ``multiline``, turned into spaces otherwise)
  and unpaired surrogates; strips surrounding white space; checks the length.
- ``check_instance(instance)`` for a model row: every text column against its ``max_length`` and
  every string inside a JSON column. It runs on every ``pre_save`` (connected in ``OrgConfig``),
  so no ``save()`` in any app, present or future, can store a value PostgreSQL would refuse.
  Services call ``clean_text`` themselves where a value goes past ``save()`` (``update()``,
  ``bulk_create``, JSON payloads) or deserves a message of its own.
- ``unsafe_characters(value)`` tells whether a value would be refused (used for query strings).
"""

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models

# C0 controls except tab, line feed and carriage return; DEL and the C1 controls; surrogates.
_REFUSED = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_LINE_BREAKS = re.compile(r"[\t\r\n]+")


def unsafe_characters(value: str) -> bool:
    """True when the value holds a character no text input may hold (NUL, other controls)."""
    return bool(_REFUSED.search(value))


def clean_text(
    value: Any, max_length: int | None = None, what: str = "内容", *, multiline: bool = True
) -> str:
    """The value as text to store, or ValidationError naming ``what`` (in Chinese)."""
    text = "" if value is None else str(value)
    if unsafe_characters(text):
        raise ValidationError(f"{what}含有不允许的控制字符", code="control_characters")
    text = text.replace("\r\n", "\n").strip()
    if not multiline:
        text = _LINE_BREAKS.sub(" ", text)
    if max_length is not None and len(text) > max_length:
        raise ValidationError(f"{what}不能超过 {max_length} 字", code="max_length")
    return text


def _check_json(value: Any, what: str) -> None:
    if isinstance(value, str):
        if unsafe_characters(value):
            raise ValidationError(f"{what}含有不允许的控制字符", code="control_characters")
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_json(key, what)
            _check_json(item, what)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _check_json(item, what)


def check_instance(instance: models.Model) -> None:
    """Refuse a row whose text PostgreSQL would not store: control characters, over-long values."""
    for field in instance._meta.concrete_fields:
        value = getattr(instance, field.attname, None)
        if value is None:
            continue
        what = str(field.verbose_name)
        if isinstance(field, models.JSONField):
            _check_json(value, what)
        elif isinstance(field, (models.CharField, models.TextField)) and isinstance(value, str):
            if unsafe_characters(value):
                raise ValidationError(f"{what}含有不允许的控制字符", code="control_characters")
            if field.max_length is not None and len(value) > field.max_length:
                raise ValidationError(f"{what}不能超过 {field.max_length} 字", code="max_length")


def refuse_unsafe_text(sender, instance, raw=False, **kwargs) -> None:
    """``pre_save`` receiver: ``check_instance`` on every row saved (fixtures loaded raw too)."""
    check_instance(instance)
