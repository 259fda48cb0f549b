"""Display tokens 大屏令牌: the key a command-centre wall screen opens its page with.

A display token is nobody's login: it reads the command-centre screen and its JSON and nothing
else (``dashboards.services.display_for_key``); it never signs anyone in, so on any other URL it
is refused like no credentials at all. Only a hash is stored; the key is shown once.
"""

import hashlib
import secrets

from django.db import models
from django.utils import timezone

from org.models import User


class DisplayToken(models.Model):
    name = models.CharField("名称", max_length=100)
    prefix = models.CharField(max_length=8)
    key_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        User, verbose_name="创建人", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField("创建时间", default=timezone.now)
    last_used_at = models.DateTimeField("最近使用", null=True, blank=True)
    revoked_at = models.DateTimeField("吊销时间", null=True, blank=True)
    revoked_by = models.ForeignKey(
        User, verbose_name="吊销人", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = verbose_name_plural = "大屏令牌"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def hash_key(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    @staticmethod
    def new_key() -> str:
        return secrets.token_urlsafe(32)
