#!/usr/bin/env python
"""Measure the logs' end-to-end delay in a lab pair: requests through the web
VIP, each marked, and the time until its access-log line is readable from
Kafka on the node that did NOT serve it.

    lab/logs_latency.py VIP READER_CONTAINER READER_ADDRESS [N] [RATE]

A consumer runs inside READER_CONTAINER (docker exec, python3-kafka) against
READER_ADDRESS:9092 and prints each marked line's arrival time; the lab's
containers share the machine's clock, so send and arrival times compare.
Prints p50/p90/p99/max in milliseconds, and lines lost or repeated.
Traffic goes only to the lab's own VIP and containers.
"""

import json
import statistics
import subprocess
import sys
import time
import urllib.request
import uuid

CONSUMER = r"""
import json, sys, time
from kafka import KafkaConsumer, TopicPartition
servers, marker, n, deadline = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
c = KafkaConsumer(bootstrap_servers=servers, enable_auto_commit=False, group_id=None, fetch_max_wait_ms=10,
                  fetch_min_bytes=1)
tps = [TopicPartition("hapair-access", p) for p in sorted(c.partitions_for_topic("hapair-access"))]
c.assign(tps); c.seek_to_end()
for tp in tps: c.position(tp)
print("ready", flush=True)
seen = {}
stop = time.monotonic() + deadline
while time.monotonic() < stop and len(seen) < n:
    for rs in c.poll(timeout_ms=20).values():
        now = time.time()
        for r in rs:
            v = r.value.decode("utf-8", "replace")
            if marker in v:
                seq = v.split(marker, 1)[1].split('"', 1)[0]
                seen.setdefault(seq, []).append(now)
end = time.monotonic() + 3
while time.monotonic() < end:
    for rs in c.poll(timeout_ms=50).values():
        for r in rs:
            v = r.value.decode("utf-8", "replace")
            if marker in v:
                seen.setdefault(v.split(marker, 1)[1].split('"', 1)[0], []).append(time.time())
print(json.dumps(seen), flush=True)
"""


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def main():
    vip, container, address = sys.argv[1], sys.argv[2], sys.argv[3]
    n = int(sys.argv[4]) if len(sys.argv) > 4 else 500
    rate = float(sys.argv[5]) if len(sys.argv) > 5 else 20.0
    marker = "lat-%s-" % uuid.uuid4().hex[:8]
    reader = subprocess.Popen(
        ["docker", "exec", container, "python3", "-c", CONSUMER, "%s:9092" % address, marker, str(n), str(n / rate + 60)],
        stdout=subprocess.PIPE, text=True)
    assert reader.stdout.readline().strip() == "ready"
    sent = {}
    for i in range(n):
        t0 = time.time()
        with urllib.request.urlopen("http://%s/?m=%s%d" % (vip, marker, i), timeout=10) as answer:
            answer.read()
        sent[str(i)] = t0
        time.sleep(max(0.0, 1 / rate - (time.time() - t0)))
    seen = json.loads(reader.stdout.readline())
    reader.wait(timeout=120)
    delays = [(seen[k][0] - sent[k]) * 1000 for k in sent if k in seen]
    lost = [k for k in sent if k not in seen]
    repeated = {k: len(v) for k, v in seen.items() if len(v) > 1}
    print(json.dumps({
        "requests": n, "received": len(delays), "lost": len(lost), "repeated": len(repeated),
        "p50_ms": round(statistics.median(delays), 1) if delays else None,
        "p90_ms": round(percentile(delays, 90), 1) if delays else None,
        "p99_ms": round(percentile(delays, 99), 1) if delays else None,
        "max_ms": round(max(delays), 1) if delays else None,
    }))


if __name__ == "__main__":
    main()
