"""Sending one delivery on its channel: WeChat Work 企业微信 and DingTalk 钉钉 group robots (their
documented webhook JSON), e-mail through Django's mail backend, SMS through ``notices.sms``.

Robots: a POST of ``{"msgtype": "markdown", ...}`` to the robot's webhook; both answer HTTP 200
with ``{"errcode": 0, "errmsg": "ok"}`` on success and a non-zero ``errcode`` otherwise.
WeChat Work: ``{"msgtype": "markdown", "markdown": {"content": "..."}}`` (at most 4096 bytes).
DingTalk: ``{"msgtype": "markdown", "markdown": {"title": "...", "text": "..."}}``; a robot with
signing on (加签) takes ``&timestamp=<ms>&sign=<s>`` on its URL, where ``s`` is the URL-encoded
base64 HMAC-SHA256 of ``"<timestamp>\\n<secret>"`` keyed with the secret.

Webhooks are only posted to the hosts in ``NOTICES_WEBHOOK_HOSTS`` (the vendors' by default), so
a robot address cannot make the server call arbitrary machines.
"""

import base64
import datetime as dt
import hashlib
import hmac
import json
import urllib.error
import urllib.parse
import urllib.request

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail

from . import sms
from .models import Channel, Delivery, Notice, Robot

DEFAULT_HOSTS = {Channel.WECOM: ["qyapi.weixin.qq.com"], Channel.DINGTALK: ["oapi.dingtalk.com"]}
WECOM_MAX_BYTES = 4096
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


class SendError(Exception):
    """Sending failed; the message (in Chinese) is the reason shown in the delivery log."""


def _hosts(channel: str) -> list[str]:
    return list(getattr(settings, "NOTICES_WEBHOOK_HOSTS", DEFAULT_HOSTS).get(channel, []))


def check_webhook(channel: str, url: str) -> None:
    """Refuse a webhook that is not an https address of the channel's vendor (``ValidationError``)."""
    parts = urllib.parse.urlsplit(url.strip())
    host = parts.hostname or ""
    if host not in _hosts(channel):
        raise ValidationError(f"Webhook 地址的主机须为 {'、'.join(_hosts(channel)) or '（未配置）'}")
    if parts.scheme != "https" and not (parts.scheme == "http" and host in LOCAL_HOSTS):
        raise ValidationError("Webhook 地址须为 https 地址")


def site_url(link: str) -> str:
    base = getattr(settings, "NOTICES_SITE_URL", "").rstrip("/")
    return f"{base}{link}" if link.startswith("/") else link


def markdown(notice: Notice) -> str:
    text = f"### {notice.title}\n{notice.body}"
    if notice.link:
        text += f"\n[查看并处理]({site_url(notice.link)})"
    return text


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest))


def robot_request(robot: Robot, notice: Notice, now: dt.datetime) -> tuple[str, dict]:
    """The URL and JSON body that tell ``robot``'s group of ``notice``."""
    content = markdown(notice)
    if robot.channel == Channel.WECOM:
        data = content.encode()[:WECOM_MAX_BYTES].decode(errors="ignore")
        return robot.webhook, {"msgtype": "markdown", "markdown": {"content": data}}
    url = robot.webhook
    if robot.secret:
        stamp = int(now.timestamp() * 1000)
        url += f"{'&' if '?' in url else '?'}timestamp={stamp}&sign={dingtalk_sign(robot.secret, stamp)}"
    return url, {"msgtype": "markdown", "markdown": {"title": notice.title, "text": content}}


def post_json(url: str, body: dict) -> None:
    """POST ``body``; raise ``SendError`` unless the robot answers 200 with errcode 0."""
    timeout = float(getattr(settings, "NOTICES_HTTP_TIMEOUT", 5))
    request = urllib.request.Request(
        url,
        data=json.dumps(body, ensure_ascii=False).encode(),
        headers={"Content-Type": "application/json; charset=utf-8"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (host checked)
            answer = response.read(10_000)
    except urllib.error.HTTPError as exc:
        raise SendError(f"HTTP {exc.code}") from exc
    except TimeoutError as exc:
        raise SendError("请求超时") from exc
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise SendError("请求超时" if isinstance(reason, TimeoutError) else f"连接失败：{reason}") from exc
    try:
        result = json.loads(answer or b"{}")
    except ValueError as exc:
        raise SendError("应答不是 JSON") from exc
    if not isinstance(result, dict) or result.get("errcode", 0) != 0:
        code = result.get("errcode") if isinstance(result, dict) else "?"
        message = result.get("errmsg", "") if isinstance(result, dict) else ""
        raise SendError(f"机器人返回错误 {code}：{message}"[:200])


def send_to_robot(robot: Robot, notice: Notice, now: dt.datetime) -> None:
    try:
        check_webhook(robot.channel, robot.webhook)
    except ValidationError as exc:
        raise SendError("；".join(exc.messages)) from exc
    url, body = robot_request(robot, notice, now)
    post_json(url, body)


def send(delivery: Delivery, now: dt.datetime) -> None:
    """Send one delivery; raise ``SendError`` with the reason when it did not go."""
    notice = delivery.notice
    if delivery.channel in (Channel.WECOM, Channel.DINGTALK):
        if delivery.robot is None or not delivery.robot.is_active:
            raise SendError("群机器人已删除或停用")
        send_to_robot(delivery.robot, notice, now)
    elif delivery.channel == Channel.EMAIL:
        if delivery.user is None or not delivery.user.email:
            raise SendError("收件人没有邮箱")
        text = f"{notice.body}\n\n{site_url(notice.link)}" if notice.link else notice.body
        try:
            send_mail(f"【创文】{notice.title}", text, None, [delivery.user.email])
        except Exception as exc:  # any mail backend error is a failed attempt
            raise SendError(f"邮件发送失败：{exc}"[:200]) from exc
    elif delivery.channel == Channel.SMS:
        if delivery.user is None or not delivery.user.phone:
            raise SendError("收件人没有手机号")
        try:
            sms.backend().send(delivery.user.phone, f"【创文】{notice.title}"[: sms.MAX_LENGTH])
        except sms.SmsError as exc:
            raise SendError(f"短信发送失败：{exc}"[:200]) from exc
    else:
        raise SendError(f"未知渠道 {delivery.channel}")
