"""A local webhook receiver for the tests: records every POST, answers from a script."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    def __init__(self):
        self.received: list[dict] = []
        # Statuses to answer, in turn; once used up, 200.
        self.script: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                raw = self.rfile.read(length)
                status = receiver.script.pop(0) if receiver.script else 200
                receiver.received.append(
                    {"headers": dict(self.headers), "raw": raw, "status": status}
                )
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def delivered(self) -> list[dict]:
        """The bodies answered 2xx, in the order they arrived."""
        return [json.loads(r["raw"]) for r in self.received if 200 <= r["status"] < 300]
