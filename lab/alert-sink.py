#!/usr/bin/env python
"""The lab's alert sink: receives Alertmanager's webhook notifications on the
controller and appends each, with the time it arrived, as one JSON line to a
file. Lab only: a real pair's monitoring_webhook_url points at the
operators' own receiver (chat, paging).

    lab/alert-sink.py --listen 172.28.77.1:9098 --out .cache/alerts.jsonl
    lab/alert-sink.py --inventory inventories/lab --out .cache/alerts.jsonl   # --listen from a lab inventory

    POST /alerts   Alertmanager's JSON payload; 200 once it is written
    GET  /alerts   the lines received so far (JSON lines)

Each line: {"received": <unix time>, "from": <address>, "payload": {...}}.
Both Alertmanagers of a pair are clustered and send a notification once;
when they could not gossip (a cut link), both may send it: whoever reads the
file dedupes by the payload's groupKey and alert fingerprints.
"""

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
MAX_BODY = 4 * 1024 * 1024


def record(source, payload, now=None):
    """The JSON line appended for one notification."""
    return json.dumps({"received": round(now if now is not None else time.time(), 3), "from": source,
                       "payload": payload}, sort_keys=True)


class Sink(BaseHTTPRequestHandler):
    out = ".cache/alerts.jsonl"

    def log_message(self, *_):  # the file is the log
        pass

    def answer(self, status, body, kind="text/plain"):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):  # noqa: N802 (http.server's naming)
        if self.path.rstrip("/") != "/alerts":
            self.answer(404, "POST to /alerts\n")
            return
        length = int(self.headers.get("Content-Length") or 0)
        if length <= 0 or length > MAX_BODY:
            self.answer(400, "a JSON body up to %d bytes\n" % MAX_BODY)
            return
        try:
            payload = json.loads(self.rfile.read(length))
        except ValueError:
            self.answer(400, "not JSON\n")
            return
        line = record(self.client_address[0], payload)
        with LOCK, open(self.out, "a", encoding="utf-8") as handle:
            handle.write(line + "\n")
        self.answer(200, "ok\n")

    def do_GET(self):  # noqa: N802
        if self.path.rstrip("/") != "/alerts":
            self.answer(404, "GET /alerts\n")
            return
        with LOCK:
            text = open(self.out, encoding="utf-8").read() if os.path.exists(self.out) else ""
        self.answer(200, text, "application/x-ndjson")


def gateway_of(source):
    """The lab network's gateway address of a lab inventory."""
    beside = os.path.join(os.path.dirname(sys.executable), "ansible-inventory")
    command = beside if os.path.exists(beside) else "ansible-inventory"
    out = subprocess.run([command, "--inventory", source, "--list"], capture_output=True, text=True,
                         check=True).stdout
    hostvars = json.loads(out)["_meta"]["hostvars"]
    return next(hv["hapair_lab_gateway"] for hv in hostvars.values() if "hapair_lab_gateway" in hv)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--listen", help="address:port to listen on (the lab network's gateway)")
    parser.add_argument("--inventory", help="a lab inventory to read the gateway from")
    parser.add_argument("--port", type=int, default=9098, help="port, with --inventory")
    parser.add_argument("--out", default=".cache/alerts.jsonl", help="file the notifications are appended to")
    args = parser.parse_args(argv)
    if args.inventory:
        args.listen = "%s:%d" % (gateway_of(args.inventory), args.port)
    if not args.listen:
        parser.error("give --listen or --inventory")
    Sink.out = args.out
    host, _sep, port = args.listen.rpartition(":")
    server = ThreadingHTTPServer((host, int(port)), Sink)
    print(json.dumps({"time": round(time.time(), 3), "listening": args.listen, "out": args.out}), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
