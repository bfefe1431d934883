"""A fake SMS gateway: a real HTTP server on 127.0.0.1 that records what Aiguillage sends."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Optional
from urllib.parse import parse_qsl

from tests.fakes import POLL_SECONDS


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict
    body: bytes

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def form(self) -> dict:
        return dict(parse_qsl(self.body.decode("utf-8")))


class FakeGateway:
    """Answers each request with the next scripted (status, json) pair, then with success."""

    def __init__(self, twilio: bool = False):
        self.twilio = twilio
        self.requests: list[Recorded] = []
        self.script: list[tuple[int, Optional[dict]]] = []
        self._lock = threading.Lock()
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with gateway._lock:
                    gateway.requests.append(Recorded("POST", self.path, dict(self.headers), body))
                    number = len(gateway.requests)
                    status, payload = gateway.script.pop(0) if gateway.script else (200, None)
                if payload is None and status < 400:
                    payload = {"sid": f"SM{number:032d}"} if gateway.twilio else {"id": f"gw-{number}"}
                data = json.dumps(payload or {"error": "scripted"}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": POLL_SECONDS},
                                       daemon=True)

    def __enter__(self) -> "FakeGateway":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def texts(self) -> list[str]:
        return [r.form()["Body"] if self.twilio else r.json()["text"] for r in self.requests]

    def recipients(self) -> list[str]:
        return [r.form()["To"] if self.twilio else r.json()["to"] for r in self.requests]
