#!/usr/bin/env python
"""Measure how long canary writes fail when keepalived goes away on the
MySQL primary's node of the lab pair (the database VIP moves to the
SECONDARY's node, and mysql_gr's follow script moves the primary after it).

Sends a canary write (POST /write?seq=N) through the web VIP every
--interval seconds; after --warmup seconds stops keepalived on the primary's
node; stops after --duration seconds, starts keepalived again, then reads
every acknowledged sequence number back on both nodes. Prints one JSON line
per run: the primary before and after, writes acknowledged, the longest
stretch with no acknowledged write (seconds), and the acknowledged writes
missing on each node (must be 0).

Lab only: acts on the containers hapair-lab-ha1/ha2 and writes to the lab's
web VIP.

  tools/db_vip_follow_measure.py --runs 3
"""

from __future__ import annotations

import argparse
import json
import subprocess
import threading
import time
import urllib.error
import urllib.request

NODES = {"172.28.77.11": "ha1", "172.28.77.12": "ha2"}
WEB_VIP = "172.28.77.100"


def node_sql(node: str, query: str) -> list[str]:
    """Rows of QUERY run as root on NODE's mysqld, one string per row."""
    out = subprocess.run(["docker", "exec", f"hapair-lab-{node}", "mysql", "--batch", "--skip-column-names",
                          "-e", query], check=True, capture_output=True, text=True, timeout=60).stdout
    return out.split()


def primary() -> str:
    rows = node_sql("ha1", "SELECT MEMBER_HOST FROM performance_schema.replication_group_members "
                           "WHERE MEMBER_ROLE = 'PRIMARY' AND MEMBER_STATE = 'ONLINE'")
    if len(rows) != 1:
        raise SystemExit(f"no single ONLINE PRIMARY in the lab's group: {rows}")
    return NODES[rows[0]]


def keepalived(node: str, action: str) -> None:
    subprocess.run(["docker", "exec", f"hapair-lab-{node}", "systemctl", action, "keepalived"], check=True, timeout=60)


def write(seq: int, timeout: float) -> bool:
    request = urllib.request.Request(f"http://{WEB_VIP}/write?seq={seq}", data=b"", method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310 (the lab's own VIP)
            return answer.status == 200
    except (urllib.error.URLError, OSError):
        return False


def run_once(args: argparse.Namespace) -> dict:
    before = primary()
    fault = threading.Timer(args.warmup, keepalived, (before, "stop"))
    acked: list[tuple[float, int]] = []
    start = time.monotonic()
    fault.start()
    try:
        while time.monotonic() - start < args.duration:
            seq = time.time_ns() // 1000
            if write(seq, args.timeout):
                acked.append((time.monotonic(), seq))
            time.sleep(args.interval)
    finally:
        fault.join()
        keepalived(before, "start")
    gaps = [b[0] - a[0] for a, b in zip(acked, acked[1:])]
    seqs = [seq for _unused, seq in acked]
    missing = {}
    for node in NODES.values():
        found = set(map(int, node_sql(node, f"SELECT seq FROM {args.table} WHERE seq BETWEEN {min(seqs)} AND {max(seqs)}")))
        missing[node] = len([s for s in seqs if s not in found])
    return {"primary_before": before, "primary_after": primary(), "acknowledged": len(seqs),
            "longest_without_ack_s": round(max(gaps), 3) if gaps else None, "missing": missing}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--interval", type=float, default=0.02, help="seconds between writes")
    parser.add_argument("--timeout", type=float, default=2.0, help="seconds per write")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds before keepalived is stopped")
    parser.add_argument("--duration", type=float, default=12.0, help="seconds of writes per run")
    parser.add_argument("--settle", type=float, default=5.0, help="seconds between runs")
    parser.add_argument("--table", default="hapair.canary_writes")
    args = parser.parse_args()
    for run in range(args.runs):
        if run:
            time.sleep(args.settle)
        print(json.dumps(run_once(args)), flush=True)


if __name__ == "__main__":
    main()
