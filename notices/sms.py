"""SMS 短信 through a pluggable backend (``NOTICES_SMS_BACKEND``, a dotted path).

A provider's backend is a class with ``send(phone, text)`` that returns when the provider
accepted the message and raises ``SmsError`` (with the provider's reason) when it did not; the
worker retries on ``SmsError`` like on any other failure. Texts are short (at most
``MAX_LENGTH`` characters) and carry no citizen's data (``notices.outbox.scrub``).
"""

import sys
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

MAX_LENGTH = 300


class SmsError(Exception):
    """The provider refused or could not be reached; the message says why."""


class SmsBackend(Protocol):
    def send(self, phone: str, text: str) -> None: ...


class ConsoleBackend:
    """For the demo: writes each message to standard output."""

    def send(self, phone: str, text: str) -> None:
        sys.stdout.write(f"[短信] {phone}: {text}\n")
        sys.stdout.flush()


# Messages "sent" by the memory backend, for tests (as django.core.mail.outbox).
outbox: list[tuple[str, str]] = []


class MemoryBackend:
    """For tests: keeps messages in ``notices.sms.outbox``."""

    def send(self, phone: str, text: str) -> None:
        outbox.append((phone, text))


def backend() -> SmsBackend:
    path = getattr(settings, "NOTICES_SMS_BACKEND", "notices.sms.ConsoleBackend")
    return import_string(path)()
