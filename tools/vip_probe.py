#!/usr/bin/env python
"""Probe a pair's web VIP from the controller and measure a failover.

Sends a GET to the VIP every --interval seconds (a new connection each
time, as a fresh client would), optionally runs a fault command after
--warmup seconds, and stops after --duration seconds or --count requests.
Prints one JSON summary: requests, failures, the longest run of failed
requests (seconds from the first failed request to the next success), which
node served before and after the fault (Nginx's X-Served-By header), and,
with --state-cmd, the VIP move time from the keepalived state files (the
new MASTER's "since" minus the fault time; node and controller share a
clock in the lab).

Only the lab's addresses are allowed as targets (loopback and the lab and
Molecule subnets), so a typo cannot send traffic anywhere else.

  tools/vip_probe.py --duration 6 --warmup 2 \\
      --fault 'docker exec hapair-lab-ha2 systemctl stop keepalived' \\
      --state-cmd 'docker exec hapair-lab-{node} cat /var/lib/hapair/vrrp/web.state' --nodes ha1 ha2
"""

from __future__ import annotations

import argparse
import http.client
import ipaddress
import json
import shlex
import subprocess
import sys
import time
import urllib.parse

ALLOWED = [ipaddress.ip_network(n) for n in ("127.0.0.0/8", "172.28.77.0/24", "172.28.78.0/24")]


def allowed(host: str) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(address in net for net in ALLOWED)


def request(host: str, port: int, path: str, timeout: float):
    """One GET on a new connection: (ok, served_by, node)."""
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Connection": "close"})
        resp = conn.getresponse()
        body = resp.read()
        node = None
        try:
            node = json.loads(body).get("node")
        except ValueError:
            pass
        return resp.status == 200, resp.getheader("X-Served-By"), node
    except (OSError, http.client.HTTPException):
        return False, None, None
    finally:
        conn.close()


def longest_failure(samples):
    """Longest failed stretch: (seconds, requests, start time) from (t, ok) samples."""
    best, best_count, best_start = 0.0, 0, None
    start, count = None, 0
    for t, ok, *_unused in samples:
        if not ok:
            if start is None:
                start, count = t, 0
            count += 1
        elif start is not None:
            if t - start > best:
                best, best_count, best_start = t - start, count, start
            start = None
    if start is not None and samples and samples[-1][0] - start > best:
        best, best_count, best_start = samples[-1][0] - start, count, start
    return best, best_count, best_start


def longest_gap(samples):
    """Longest time between two successful answers (end of one to start of the next)."""
    best, last_ok_end = 0.0, None
    for t, ok, *_rest in samples:
        if ok:
            if last_ok_end is not None:
                best = max(best, t - last_ok_end)
            last_ok_end = _rest[-1] if _rest and isinstance(_rest[-1], float) else t
    return best


def read_states(cmd: str, nodes):
    states = {}
    for node in nodes:
        out = subprocess.run(shlex.split(cmd.format(node=node)), capture_output=True, text=True, timeout=10, check=False)
        try:
            states[node] = json.loads(out.stdout)
        except ValueError:
            states[node] = None
    return states


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://172.28.77.100/")
    parser.add_argument("--interval", type=float, default=0.01)
    # Short: a canary on the same segment answers in a few ms, and a request
    # caught by the move would otherwise hang for the whole timeout and hide
    # how long the outage really was.
    parser.add_argument("--timeout", type=float, default=0.05, help="seconds per request")
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--count", type=int, default=100000)
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds before the fault")
    parser.add_argument("--fault", help="command run once after the warm-up")
    parser.add_argument("--state-cmd", help="command printing a node's state file; {node} is replaced")
    parser.add_argument("--nodes", nargs="*", default=[])
    args = parser.parse_args(argv)

    url = urllib.parse.urlsplit(args.url)
    if not allowed(url.hostname or ""):
        print(f"refusing {url.hostname}: only loopback and the lab subnets may be probed", file=sys.stderr)
        return 2
    if args.duration > 600 or args.count > 100000:
        print("refusing: at most 600 s and 100000 requests", file=sys.stderr)
        return 2
    port, path = url.port or 80, url.path or "/"

    samples, fault_at, fault_rc = [], None, None
    start = time.time()
    next_at = start
    while len(samples) < args.count and time.time() - start < args.duration:
        if args.fault and fault_at is None and time.time() - start >= args.warmup:
            fault_at = time.time()
            fault_rc = subprocess.Popen(shlex.split(args.fault), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        t = time.time()
        ok, served_by, node = request(url.hostname, port, path, args.timeout)
        samples.append((t, ok, served_by, node, time.time()))
        next_at += args.interval
        delay = next_at - time.time()
        if delay > 0:
            time.sleep(delay)
        else:
            next_at = time.time()
    if isinstance(fault_rc, subprocess.Popen):
        fault_rc = fault_rc.wait(timeout=60)

    seconds, count, stretch_start = longest_failure(samples)
    before = [s for s in samples if fault_at is None or s[0] < fault_at]
    after = [s for s in samples if fault_at is not None and s[0] >= fault_at]
    holder_before = next((s[2] for s in reversed(before) if s[1]), None)
    first_new = next((s for s in after if s[1] and s[2] != holder_before), None)
    summary = {
        "url": args.url,
        "requests": len(samples),
        "failed": sum(1 for s in samples if not s[1]),
        "longest_failed_s": round(seconds, 3),
        "longest_failed_requests": count,
        "longest_gap_between_answers_s": round(longest_gap(samples), 3),
        "longest_failed_starts_after_fault_s": round(stretch_start - fault_at, 3) if stretch_start and fault_at else None,
        "fault": args.fault,
        "fault_rc": fault_rc,
        "served_by_before": holder_before,
        "served_by_after": sorted({s[2] for s in after if s[1]}),
        "backends_answering": sorted({s[3] for s in samples if s[1] and s[3]}),
        "failed_after_new_holder_answered": sum(1 for s in after if not s[1] and first_new and s[0] > first_new[0]),
        "slowest_answer_s": round(max((s[4] - s[0] for s in samples if s[1]), default=0.0), 3),
        "first_answer_from_new_holder_s": round(first_new[0] - fault_at, 3) if first_new and fault_at else None,
    }
    if args.state_cmd and args.nodes:
        states = read_states(args.state_cmd, args.nodes)
        summary["states"] = {
            n: {"state": (s or {}).get("state"), "previous": (s or {}).get("previous"),
                "since_fault_s": round(float(s["since"]) - fault_at, 3) if s and fault_at else None}
            for n, s in states.items()
        }
        # The new holder: a MASTER since the fault. A keepalived that was
        # stopped may leave its own MASTER record behind (its notify reader
        # stops with it), dated before the fault.
        masters = sorted(float(s["since"]) for s in states.values()
                         if s and s.get("state") == "MASTER" and fault_at and float(s["since"]) >= fault_at)
        if masters:
            summary["vip_move_s"] = round(masters[0] - fault_at, 3)
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
