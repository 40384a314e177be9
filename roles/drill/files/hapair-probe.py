#!/usr/bin/env python
"""The failover drill's probe: what a client of the pair sees.

Sends a steady stream of canary writes through the web VIP, each with its
own sequence number, and reads every node's own view of the pair (its
keepalived states and Group Replication role) a few times a second. Writes
one JSON object a line (see plugins/module_utils/drill.py) until it is told
to stop (SIGTERM, SIGINT or the stop file appearing) or its time is up.

Standard library only; runs on the controller.
"""

import argparse
import json
import os
import queue
import signal
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor


def call(url, timeout, method="GET"):
    request = urllib.request.Request(url, data=b"" if method == "POST" else None, method=method)
    with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310 (the pair's own URLs)
        return answer.status, json.loads(answer.read() or b"{}")


def write_once(base_url, seq, timeout):
    record = {"type": "write", "seq": seq, "sent": time.time()}
    try:
        status, body = call(f"{base_url}?seq={seq}", timeout, method="POST")
        record["status"] = status
        record["ok"] = status == 200 and body.get("seq") == seq
        record["node"] = body.get("node")
        record["db"] = body.get("db")
        if not record["ok"]:
            record["error"] = body.get("error", f"answer for seq {body.get('seq')}")
    except urllib.error.HTTPError as exc:
        record.update(ok=False, status=exc.code, error=exc.read(300).decode("utf-8", "replace").strip())
    except Exception as exc:  # noqa: BLE001 (every failure is a data point)
        record.update(ok=False, error=f"{type(exc).__name__}: {exc}")
    record["answered"] = time.time()
    return record


def read_state(node, url, timeout):
    record = {"type": "state", "node": node, "t": time.time()}
    try:
        _unused, body = call(url, timeout)
        record.update(ok=True, vrrp=body.get("vrrp", {}), held=body.get("held"), gr_role=body.get("gr_role"))
    except Exception as exc:  # noqa: BLE001
        record.update(ok=False, error=f"{type(exc).__name__}: {exc}")
    return record


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write-url", required=True, help="the canary's write URL through the web VIP")
    parser.add_argument("--state", action="append", default=[], metavar="NODE=URL", help="a node's state URL")
    parser.add_argument("--out", required=True, help="file to append the records to")
    parser.add_argument("--rate", type=float, default=50.0, help="writes per second")
    parser.add_argument("--timeout", type=float, default=2.0, help="seconds a write may take")
    parser.add_argument("--state-interval", type=float, default=0.2, help="seconds between state readings")
    parser.add_argument("--duration", type=float, default=600.0, help="stop after this many seconds at most")
    parser.add_argument("--first-seq", type=int, default=None, help="first sequence number (default: ms since epoch)")
    parser.add_argument("--stop-file", default=None, help="stop when this file exists")
    args = parser.parse_args(argv)

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    records = queue.Queue()
    deadline = time.monotonic() + args.duration

    def writer():
        with open(args.out, "a", encoding="utf-8") as out:
            while True:
                record = records.get()
                if record is None:
                    return
                out.write(json.dumps(record, sort_keys=True) + "\n")
                out.flush()

    def watch(node, url):
        while not stop.is_set():
            started = time.monotonic()
            records.put(read_state(node, url, min(args.timeout, args.state_interval * 2.5)))
            stop.wait(max(0.0, args.state_interval - (time.monotonic() - started)))

    sink = threading.Thread(target=writer, daemon=True)
    sink.start()
    watchers = []
    for item in args.state:
        node, _sep, url = item.partition("=")
        watchers.append(threading.Thread(target=watch, args=(node, url), daemon=True))
        watchers[-1].start()

    seq = args.first_seq if args.first_seq is not None else int(time.time() * 1000)
    interval = 1.0 / args.rate
    workers = int(args.rate * args.timeout) + 8
    next_at = time.monotonic()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        while not stop.is_set() and time.monotonic() < deadline:
            if args.stop_file and os.path.exists(args.stop_file):
                break
            pool.submit(lambda s=seq: records.put(write_once(args.write_url, s, args.timeout)))
            seq += 1
            next_at += interval
            stop.wait(max(0.0, next_at - time.monotonic()))
        stop.set()
    for thread in watchers:
        thread.join(timeout=args.timeout + 1)
    records.put(None)
    sink.join()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
