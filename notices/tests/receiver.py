"""A fake group-robot server for tests: a local HTTP server on 127.0.0.1 (random port) that speaks
the WeChat Work and DingTalk robot webhooks — it records each message, checks DingTalk's
signature, and answers as scripted (ok, an errcode, HTTP 500, or no answer at all)."""

import base64
import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest


class Receiver:
    def __init__(self):
        self.messages: list[dict] = []
        self.script: list[str] = []  # "ok" | "errcode" | "500" | "hang"; empty means ok
        self.secrets: dict[str, str] = {}  # DingTalk access token -> signing secret
        self.release = threading.Event()
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                receiver.handle(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def wecom_url(self, key: str = "wk-1") -> str:
        return f"{self.base}/cgi-bin/webhook/send?key={key}"

    def dingtalk_url(self, token: str = "dt-1", secret: str = "") -> str:
        if secret:
            self.secrets[token] = secret
        return f"{self.base}/robot/send?access_token={token}"

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        with self.lock:
            action = self.script.pop(0) if self.script else "ok"
        length = int(request.headers.get("Content-Length", 0))
        body = json.loads(request.rfile.read(length) or b"{}")
        parts = urlsplit(request.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if action == "hang":
            self.release.wait(10)
            return
        if action == "500":
            request.send_response(500)
            request.end_headers()
            return
        answer = {"errcode": 0, "errmsg": "ok"}
        if action == "errcode":
            answer = {"errcode": 93000, "errmsg": "invalid webhook url"}
        elif parts.path == "/robot/send":
            answer = self.check_dingtalk(query, body)
        elif parts.path == "/cgi-bin/webhook/send":
            answer = self.check_wecom(query, body)
        if answer["errcode"] == 0:
            with self.lock:
                self.messages.append({"path": parts.path, "query": query, "body": body})
        data = json.dumps(answer).encode()
        request.send_response(200)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(data)))
        request.end_headers()
        request.wfile.write(data)

    @staticmethod
    def check_wecom(query: dict, body: dict) -> dict:
        ok = "key" in query and body.get("msgtype") == "markdown" and body["markdown"].get("content")
        return {"errcode": 0, "errmsg": "ok"} if ok else {"errcode": 40008, "errmsg": "invalid message type"}

    def check_dingtalk(self, query: dict, body: dict) -> dict:
        secret = self.secrets.get(query.get("access_token", ""))
        if secret:
            stamp = query.get("timestamp", "")
            digest = hmac.new(secret.encode(), f"{stamp}\n{secret}".encode(), hashlib.sha256).digest()
            if query.get("sign") != base64.b64encode(digest).decode():
                return {"errcode": 310000, "errmsg": "sign not match"}
        markdown = body.get("markdown", {})
        ok = body.get("msgtype") == "markdown" and markdown.get("title") and markdown.get("text")
        return {"errcode": 0, "errmsg": "ok"} if ok else {"errcode": 40035, "errmsg": "缺少参数 json"}

    def texts(self) -> list[str]:
        return [json.dumps(m["body"], ensure_ascii=False) for m in self.messages]

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(settings):
    """The fake robot server, with webhooks to 127.0.0.1 allowed and a short HTTP timeout."""
    settings.NOTICES_WEBHOOK_HOSTS = {"wecom": ["127.0.0.1"], "dingtalk": ["127.0.0.1"]}
    settings.NOTICES_HTTP_TIMEOUT = 0.5
    server = Receiver()
    yield server
    server.stop()
