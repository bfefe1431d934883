"""A fake Telegram Bot API: a real HTTP server on 127.0.0.1 that records calls and answers in
Telegram's JSON shape. Failures can be scripted per method (HTTP status, description, retry_after)."""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict, deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Optional
from urllib.parse import parse_qs

from tests.fakes import POLL_SECONDS

BOT_USER = {"id": 4242, "is_bot": True, "first_name": "Aiguillage", "username": "aiguillage_test_bot"}


class FakeTelegramAPI:
    def __init__(self, token: str = "123:TEST"):
        self.token = token
        self.calls: list[tuple[str, dict]] = []
        self.failures: dict[str, deque] = defaultdict(deque)
        self.pending_updates: deque = deque()
        self.webhook: Optional[dict] = None
        self._message_id = 0
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                ctype = self.headers.get("Content-Type", "")
                if "json" in ctype:
                    params = json.loads(raw or b"{}")
                else:
                    params = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
                prefix = f"/bot{fake.token}/"
                if not self.path.startswith(prefix):
                    return self._send(404, {"ok": False, "error_code": 404, "description": "Not Found"})
                status, body = fake.handle(self.path[len(prefix):], params)
                self._send(status, body)

            do_GET = do_POST

            def _send(self, status, body):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": POLL_SECONDS},
                                       daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> "FakeTelegramAPI":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # --- scripting ---
    def fail(self, method: str, status: int, description: str = "", retry_after: Optional[int] = None,
             times: int = 1) -> None:
        body = {"ok": False, "error_code": status, "description": description or f"Error {status}"}
        if retry_after is not None:
            body["parameters"] = {"retry_after": retry_after}
        for _ in range(times):
            self.failures[method].append((status, body))

    def slow(self, method: str, seconds: float, times: int = 1) -> None:
        for _ in range(times):
            self.failures[method].append(("slow", seconds))

    def queue_updates(self, *updates: dict) -> None:
        self.pending_updates.extend(updates)

    def requests(self, method: str) -> list[dict]:
        return [params for name, params in self.calls if name == method]

    # --- the API ---
    def handle(self, method: str, params: dict) -> tuple[int, dict]:
        with self._lock:
            self.calls.append((method, params))
            failure = self.failures[method].popleft() if self.failures[method] else None
        if failure and failure[0] == "slow":
            time.sleep(failure[1])  # answer late: the client's read timeout fires first
            failure = None
        if failure:
            return failure
        with self._lock:
            try:
                return 200, {"ok": True, "result": self._result(method, params)}
            except KeyError:
                return 404, {"ok": False, "error_code": 404, "description": "Not Found: method not found"}

    def _result(self, method: str, params: dict):
        if method == "getMe":
            return BOT_USER
        if method == "sendMessage":
            self._message_id += 1
            chat_id = int(params["chat_id"])
            return {"message_id": self._message_id, "date": 1700000000, "from": BOT_USER,
                    "chat": {"id": chat_id, "type": "private"}, "text": params.get("text", "")}
        if method in ("answerCallbackQuery", "setWebhook", "deleteWebhook", "sendChatAction"):
            if method == "setWebhook":
                self.webhook = params
            if method == "deleteWebhook":
                self.webhook = None
            return True
        if method == "getUpdates":
            offset = params.get("offset")
            if offset is not None:
                offset = int(offset)
                while self.pending_updates and self.pending_updates[0]["update_id"] < offset:
                    self.pending_updates.popleft()
            return list(self.pending_updates)
        raise KeyError(method)
