"""A real OpenAI-compatible HTTP server on 127.0.0.1 for tests (stdlib ``http.server`` in a thread).

It answers ``POST /v1/chat/completions`` with OpenAI-shaped JSON.  It can fail the first
``fail_first`` requests with ``fail_status`` (optionally echoing the request's API key in the
error body, as some servers do), stall the first ``stall_first`` requests past a client
timeout, and records every request (headers and JSON body) for assertions.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


def last_user_text(payload: dict[str, Any]) -> str:
    content = payload["messages"][-1]["content"]
    if isinstance(content, str):
        return content
    return " ".join(p["text"] for p in content if p.get("type") == "text")


@dataclass
class FakeOpenAI:
    responder: Callable[[dict[str, Any]], str] = lambda payload: "echo: " + last_user_text(payload)
    fail_first: int = 0
    fail_status: int = 503
    echo_key_in_errors: bool = False
    stall_first: int = 0
    stall_s: float = 0.0
    retry_after: str | None = None
    requests: list[dict[str, Any]] = field(default_factory=list)
    base_url: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def n_requests(self) -> int:
        return len(self.requests)

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        body = handler.rfile.read(int(handler.headers.get("Content-Length", 0)))
        with self._lock:
            n = len(self.requests)
            self.requests.append({"path": handler.path, "headers": dict(handler.headers), "json": json.loads(body)})
        if n < self.stall_first:
            time.sleep(self.stall_s)
        if handler.path != "/v1/chat/completions":
            return self._send(handler, 404, {"error": {"message": f"no route {handler.path}"}})
        if n < self.fail_first:
            msg = "overloaded"
            if self.echo_key_in_errors:
                msg = f"Incorrect API key provided: {handler.headers.get('Authorization', '')}"
            return self._send(handler, self.fail_status, {"error": {"message": msg}})
        payload = self.requests[n]["json"]
        content = self.responder(payload)
        self._send(handler, 200, {
            "id": f"chatcmpl-{n}", "object": "chat.completion", "created": 0, "model": payload.get("model"),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        })  # fmt: skip

    def _send(self, handler: BaseHTTPRequestHandler, status: int, obj: dict[str, Any]) -> None:
        data = json.dumps(obj).encode()
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(data)))
            if status == 429 and self.retry_after is not None:
                handler.send_header("Retry-After", self.retry_after)
            handler.end_headers()
            handler.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout test)
            pass


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    """A running fake server; tweak its fields in the test, read ``.requests`` afterwards."""
    state = FakeOpenAI()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            state._handle(self)

        def log_message(self, *args: Any) -> None:  # keep test output clean
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    state.base_url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def down_url() -> str:
    """A base URL where nothing listens (connection refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"
