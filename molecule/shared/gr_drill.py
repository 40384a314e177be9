"""Helpers of the data tests that break the group on purpose (scenarios
default and witness): the drill's probe (roles/drill/files/hapair-probe.py)
run from the controller through the web VIP, every member's rows of the
canary's table, and plugins/module_utils/drill.py's analysis of both.
Imported by path (the scenarios' tests are not a package)."""

import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PROBE = REPO / "roles" / "drill" / "files" / "hapair-probe.py"


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


drill = _load("hapair_drill", REPO / "plugins" / "module_utils" / "drill.py")


def node_sql(container, query, timeout=60):
    """Rows of QUERY run as root on a node's mysqld (through docker exec)."""
    out = subprocess.run(
        ["docker", "exec", container, "mysql", "--batch", "--skip-column-names", "-e", query],
        check=True, capture_output=True, text=True, timeout=timeout,
    ).stdout
    return [line.split("\t") for line in out.splitlines() if line]


def members(container):
    """(host, state, role, id) of every member this node sees."""
    return [tuple(r) for r in node_sql(container, "SELECT MEMBER_HOST, MEMBER_STATE, MEMBER_ROLE, MEMBER_ID "
                                                  "FROM performance_schema.replication_group_members ORDER BY MEMBER_HOST")]


def pair_states(lab, seen_from):
    """name -> (state, role) of every member the node SEEN_FROM sees (LAB: the
    scenario's `lab` fixture)."""
    by_address = {a: n for n, a in lab["address"].items()}
    return {by_address[r[0]]: (r[1], r[2]) for r in members(lab["containers"][seen_from])}


def pair_primary(lab, seen_from):
    return next(n for n, (state, role) in pair_states(lab, seen_from).items()
                if state == "ONLINE" and role == "PRIMARY")


def pair_make_primary(lab, node, deadline=60):
    """Moves the primary to NODE (a planned switchover) when it is elsewhere."""
    if pair_primary(lab, node) != node:
        uuid = node_sql(lab["containers"][node], "SELECT @@server_uuid")[0][0]
        node_sql(lab["containers"][node], f"SELECT group_replication_set_as_primary('{uuid}')")
    wait_for(f"{node} PRIMARY", lambda: pair_primary(lab, node) == node, deadline)


def pair_online(lab, seen_from):
    """Sorted names of the members SEEN_FROM sees ONLINE."""
    return sorted(n for n, (state, _unused) in pair_states(lab, seen_from).items() if state == "ONLINE")


def vip_holders(containers, vip):
    """Names (keys of CONTAINERS) of the nodes that hold the address VIP now."""
    held = []
    for name, container in containers.items():
        out = subprocess.run(["docker", "exec", container, "ip", "-o", "-4", "addr", "show"],
                             check=False, capture_output=True, text=True, timeout=30).stdout
        if f" {vip}/" in out:
            held.append(name)
    return held


def wait_for(what, check, deadline):
    """Seconds until CHECK() is true; fails after DEADLINE seconds."""
    start = time.monotonic()
    while True:
        try:
            if check():
                return time.monotonic() - start
        except (subprocess.SubprocessError, OSError, ValueError, StopIteration):
            pass
        assert time.monotonic() - start < deadline, f"{what}: not within {deadline} s"
        time.sleep(0.2)


class Probe:
    """The drill's probe in the background: 50 writes a second through the web
    VIP, each node's /state five times a second, JSON lines to OUT."""

    def __init__(self, out, web_vip, state_urls, rate=50):
        self.out = Path(out)
        self.first_seq = time.time_ns() // 1000
        args = [sys.executable, str(PROBE), "--write-url", f"http://{web_vip}/write", "--out", str(self.out),
                "--rate", str(rate), "--first-seq", str(self.first_seq), "--duration", "900"]
        for node, url in state_urls.items():
            args += ["--state", f"{node}={url}"]
        self.process = subprocess.Popen(args)

    def mark(self, event):
        with open(self.out, "a", encoding="utf-8") as out:
            out.write(json.dumps({"type": "mark", "event": event, "t": time.time()}) + "\n")

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)
        return drill.parse_records(self.out.read_text(encoding="utf-8"))


def rows_by_member(containers, first_seq, table="hapair.canary_writes"):
    """{member: {seq: committing server}} of the canary's rows from FIRST_SEQ on."""
    rows = {}
    for name, container in containers.items():
        rows[name] = {int(seq): db for seq, db in
                      node_sql(container, f"SELECT seq, db FROM {table} WHERE seq >= {int(first_seq)}")}
    return rows


def first_ok_after(writes, t):
    """Seconds from T to the first write sent after T that was acknowledged."""
    ok = [w["answered"] for w in writes if w.get("ok") and w["sent"] >= t]
    return round(min(ok) - t, 3) if ok else None


def report(name, result, extra=None):
    """One line per measurement on stdout, and a JSON file when HAPAIR_MEASURE_DIR is set."""
    line = {"scenario": name, "rto_seconds": result["rto_seconds"], "acked": result["writes_acknowledged"],
            "sent": result["writes_sent"], "lost": len(result["lost_writes"]),
            "split_brain": result["split_brain"], **(extra or {})}
    print("MEASURE " + json.dumps(line, sort_keys=True))
    directory = os.environ.get("HAPAIR_MEASURE_DIR")
    if directory:
        Path(directory).mkdir(parents=True, exist_ok=True)
        text = json.dumps({"summary": line, "result": result}, default=str, indent=1)
        (Path(directory) / f"{name}.json").write_text(text)
    return line
