#!/usr/bin/python3
"""The pair's canary: a tiny HTTP service that says which node answered.

GET /health -> 200 {"status": "ok", "node": ...}
GET /       -> 200 {"node": ..., "address": ..., "time": ...}
Configured from the environment (CANARY_NODE, CANARY_ADDRESS, CANARY_PORT);
Python's standard library only.
"""

import json
import os
import signal
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

NODE = os.environ.get("CANARY_NODE", os.uname().nodename)
ADDRESS = os.environ.get("CANARY_ADDRESS", "127.0.0.1")
PORT = int(os.environ.get("CANARY_PORT", "8080"))


class Handler(BaseHTTPRequestHandler):
    # HTTP/1.1 keeps connections open, so Nginx can reuse them (keepalive).
    protocol_version = "HTTP/1.1"
    server_version = "hapair-canary/1"

    def _send(self, status, body):
        data = (json.dumps(body) + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def do_GET(self):  # noqa: N802 (the name http.server calls)
        path = self.path.split("?", 1)[0]
        if path == "/health":
            self._send(200, {"status": "ok", "node": NODE})
        elif path == "/":
            self._send(200, {"node": NODE, "address": ADDRESS, "time": time.time()})
        else:
            self._send(404, {"error": "not found", "node": NODE})

    do_HEAD = do_GET

    def log_message(self, format, *args):  # noqa: A002 (the signature http.server uses)
        # Nginx logs every request already; the journal gets errors only.
        pass


def main():
    server = ThreadingHTTPServer((ADDRESS, PORT), Handler)
    server.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"canary {NODE} listening on {ADDRESS}:{PORT}", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
