"""A real OpenAI-compatible chat-completions server on loopback, for the endpoint teacher and
judge tests (no external network): ``http.server`` in a thread, ``POST /v1/chat/completions``.

``responder(body) -> (status, content)`` decides each answer: serve a model (the tiny world
model through ``HFBackend``), canned text, or errors. Every request is recorded (body and
headers), and the largest number of requests in flight at once is tracked.
"""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

Responder = Callable[[dict[str, Any]], tuple[int, str]]


class ChatServer:
    def __init__(self, responder: Responder, delay: float = 0.0) -> None:
        self.responder, self.delay = responder, delay
        self.requests: list[dict[str, Any]] = []
        self.in_flight = self.max_in_flight = 0
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:   # noqa: N802 (http.server's name)
                with outer._lock:
                    outer.in_flight += 1
                    outer.max_in_flight = max(outer.max_in_flight, outer.in_flight)
                counted = True
                try:
                    n = int(self.headers.get("Content-Length", 0))
                    body = json.loads(self.rfile.read(n))
                    with outer._lock:
                        outer.requests.append({"path": self.path, "body": body,
                                               "auth": self.headers.get("Authorization")})
                    if outer.delay:
                        time.sleep(outer.delay)
                    if self.path != "/v1/chat/completions":
                        status, content = 404, "no such route"
                    else:
                        status, content = outer.responder(body)
                    if status == 200:
                        payload = json.dumps({"object": "chat.completion", "model": body.get("model"),
                                              "choices": [{"index": 0, "finish_reason": "stop",
                                                           "message": {"role": "assistant", "content": content}}]})
                    else:
                        payload = json.dumps({"error": {"message": content}})
                    data = payload.encode()
                    with outer._lock:    # before the answer leaves: the client may send its next one at once
                        outer.in_flight -= 1
                        counted = False
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                finally:
                    if counted:
                        with outer._lock:
                            outer.in_flight -= 1

            def log_message(self, *a: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> ChatServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def model_responder(model_dir: str, max_new_tokens: int = 24) -> Responder:
    """Serve a local model: the request's messages through HFBackend (chat template or transcript)."""
    from oblivio.teachers.backends import HFBackend
    backend = HFBackend(model_dir, max_new_tokens=max_new_tokens)
    lock = threading.Lock()

    def respond(body: dict[str, Any]) -> tuple[int, str]:
        with lock:               # one generate() at a time on the shared model
            return 200, backend.generate([body["messages"]])[0] or ""
    return respond
