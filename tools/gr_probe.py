#!/usr/bin/env python
"""Measure a MySQL group from the controller, through the application account.

    gr_probe.py delay  --nodes A,B [--count 1000]
        Write COUNT rows one by one on the writable node and time until each
        is visible on every other node: p50/p99/max in milliseconds.
    gr_probe.py writer --nodes A,B --seconds S --log FILE
        Write a numbered row every 10 ms on whichever node is writable, for S
        seconds; log each acknowledged (committed) sequence number and print
        the longest stretch with no acknowledged write.
    gr_probe.py check  --nodes A,B --log FILE
        Count the acknowledged writes of FILE missing on the writable node.

Only for the lab's own nodes (addresses given with --nodes). Needs PyMySQL.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import pymysql

# The canary's table (mysql_gr_app_tables): the application account may
# only SELECT and INSERT there, so the probe creates and drops nothing and
# numbers its rows from the clock (microseconds), above every earlier row.
TABLE = "canary_writes"


def connect(host, args, timeout=1.0):
    return pymysql.connect(
        host=host, port=args.port, user=args.user, password=args.password, database=args.database,
        connect_timeout=timeout, read_timeout=5, write_timeout=5, autocommit=True,
        # TLS without a CA: the lab's self-signed certificates.
        ssl={"fake_flag_to_enable_tls": True},
    )


def writable(conn):
    with conn.cursor() as cur:
        cur.execute("SELECT @@super_read_only, @@read_only")
        return cur.fetchone() == (0, 0)


def find_writer(nodes, args):
    for host in nodes:
        try:
            conn = connect(host, args)
            if writable(conn):
                return host, conn
            conn.close()
        except pymysql.err.MySQLError:
            pass
    return None, None


def ensure_table(conn, fresh=False):
    """Fail early when the canary's table is missing (the mysql_gr role creates it)."""
    del fresh  # nothing is dropped: the account may not
    with conn.cursor() as cur:
        cur.execute(f"SELECT COUNT(*) FROM {TABLE} WHERE seq = 0")


def first_seq():
    return time.time_ns() // 1000


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def cmd_delay(args):
    nodes = args.nodes.split(",")
    host, primary = find_writer(nodes, args)
    if not primary:
        sys.exit("no writable node")
    ensure_table(primary, fresh=True)
    readers = [connect(h, args) for h in nodes if h != host]
    delays = []
    base = first_seq()
    for seq in range(base, base + args.count):
        with primary.cursor() as cur:
            cur.execute(f"INSERT INTO {TABLE} (seq, node, db) VALUES (%s, %s, @@hostname)", (seq, "gr_probe"))
        start = time.monotonic()
        for reader in readers:
            while True:
                with reader.cursor() as cur:
                    cur.execute(f"SELECT 1 FROM {TABLE} WHERE seq = %s", (seq,))
                    if cur.fetchone():
                        break
        delays.append((time.monotonic() - start) * 1000)
        time.sleep(0.01)
    print(f"writes={len(delays)} primary={host} p50_ms={percentile(delays, 50):.2f} "
          f"p99_ms={percentile(delays, 99):.2f} max_ms={max(delays):.2f} mean_ms={statistics.mean(delays):.2f}")


def cmd_writer(args):
    nodes = args.nodes.split(",")
    host, conn = find_writer(nodes, args)
    if conn:
        ensure_table(conn, fresh=False)
        seq = first_seq()
    else:
        sys.exit("no writable node")
    end = time.monotonic() + args.seconds
    last_ack = time.monotonic()
    longest = (0.0, None, None)
    acked = 0
    with open(args.log, "a", encoding="utf-8") as log:
        while time.monotonic() < end:
            seq += 1
            try:
                if conn is None:
                    host, conn = find_writer(nodes, args)
                    if conn is None:
                        raise pymysql.err.OperationalError(0, "no writable node")
                with conn.cursor() as cur:
                    cur.execute(f"INSERT INTO {TABLE} (seq, node, db) VALUES (%s, %s, @@hostname)", (seq, "gr_probe"))
                now = time.monotonic()
                if now - last_ack > longest[0]:
                    longest = (now - last_ack, host, seq)
                last_ack = now
                acked += 1
                log.write(f"{seq}\n")
                log.flush()
            except pymysql.err.MySQLError:
                # Not acknowledged: it may or may not have committed.
                try:
                    if conn:
                        conn.close()
                except Exception:  # noqa: BLE001 - a broken connection
                    pass
                conn = None
            time.sleep(0.01)
    print(f"acknowledged={acked} longest_gap_s={longest[0]:.3f} resumed_on={longest[1]} at_seq={longest[2]}")


def cmd_check(args):
    nodes = args.nodes.split(",")
    host, conn = find_writer(nodes, args)
    if conn is None:
        sys.exit("no writable node")
    with open(args.log, encoding="utf-8") as log:
        acked = {int(line) for line in log if line.strip()}
    with conn.cursor() as cur:
        cur.execute(f"SELECT seq FROM {TABLE}")
        present = {row[0] for row in cur.fetchall()}
    missing = sorted(acked - present)
    print(f"checked_on={host} acknowledged={len(acked)} missing={len(missing)} {missing[:10]}")
    sys.exit(1 if missing else 0)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["delay", "writer", "check"])
    parser.add_argument("--nodes", required=True, help="comma-separated node addresses")
    parser.add_argument("--port", type=int, default=3306)
    parser.add_argument("--user", default="hapair_app")
    parser.add_argument("--password", default="lab-app-secret")
    parser.add_argument("--database", default="hapair")
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--log", default="/tmp/gr-probe.log")
    args = parser.parse_args()
    {"delay": cmd_delay, "writer": cmd_writer, "check": cmd_check}[args.command](args)


if __name__ == "__main__":
    main()
