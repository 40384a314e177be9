#!/usr/bin/python3
"""The pair's own state as Prometheus metrics, for node-exporter's textfile
collector: one file, written atomically, by a systemd timer.

    hapair-textfile.py --config /etc/hapair/textfile.json --out /var/lib/prometheus/node-exporter/hapair.prom

What it reads (each part on its own: one that fails sets its *_up metric to 0
and the others are still written):
- keepalived: the collection's VIP manifest (which instances, which VIPs),
  keepalived's state files (the notify script's), and `ip -o addr` (what the
  kernel holds, as clients see it);
- Group Replication: performance_schema through the monitoring account, with
  the collection's own queries and summary (hapair_gr_status.py, a copy of
  plugins/module_utils/gr_status.py installed beside this script);
- Kafka: partitions whose ISR is short and the KRaft quorum's leader, with the
  collection's own client code (hapair_kafka.py, a copy of
  plugins/module_utils/kafka.py);
- systemd: whether each watched unit is active;
- the log shipper's progress: for each file it ships, the file's size and
  how far the shipper has read it (Flume TAILDIR's position file, or
  rsyslog imfile's state files), matched on the file's inode.

The config file holds the monitoring password: root only (0600). Nothing of
it is printed; errors name the part that failed and the error's type.
"""

import fnmatch
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import types

HERE = os.path.dirname(os.path.abspath(__file__))
VRRP_STATES = ("MASTER", "BACKUP", "FAULT", "STOP")


def esc(value):
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


class Metrics:
    """Prometheus text format: HELP and TYPE once per name, then samples."""

    def __init__(self):
        self.help = {}
        self.samples = []

    def add(self, name, value, labels=None, text="", kind="gauge"):
        if name not in self.help:
            self.help[name] = (text, kind)
        self.samples.append((name, labels or {}, value))

    def render(self):
        lines = []
        for name, (text, kind) in self.help.items():
            lines.append("# HELP %s %s" % (name, text))
            lines.append("# TYPE %s %s" % (name, kind))
            for sample, labels, value in self.samples:
                if sample != name:
                    continue
                label_text = ",".join('%s="%s"' % (k, esc(v)) for k, v in sorted(labels.items()))
                lines.append("%s%s %s" % (name, "{%s}" % label_text if label_text else "", float(value)))
        return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------
# Pure functions (unit-tested).

def parse_ip_o_addr(text):
    """Addresses (without prefix) of `ip -o addr` output."""
    addresses = set()
    for line in text.splitlines():
        fields = line.split()
        for i, field in enumerate(fields[:-1]):
            if field in ("inet", "inet6"):
                addresses.add(fields[i + 1].split("/")[0])
    return addresses


def vip_metrics(metrics, manifest, addresses, states, keepalived_running):
    """hapair_vip_present and hapair_vrrp_state from the manifest, the kernel's
    addresses and the state files ({instance: state})."""
    for instance in manifest.get("instances", []):
        name = instance.get("name", "")
        for vip in instance.get("vips", []):
            address = (vip.get("address", "") if isinstance(vip, dict) else str(vip)).split("/")[0].split()[0]
            metrics.add("hapair_vip_present", 1 if address in addresses else 0,
                        {"vrrp_instance": name, "vip": address},
                        "Whether this node holds the VIP (ip -o addr).")
        state = states.get(name, "STOP") if keepalived_running else "STOP"
        for candidate in VRRP_STATES:
            metrics.add("hapair_vrrp_state", 1 if state == candidate else 0,
                        {"vrrp_instance": name, "state": candidate},
                        "keepalived's VRRP state of the instance on this node (STOP when keepalived is not running).")


def gr_metrics(metrics, summary):
    """Group Replication metrics from gr_status's summary of this member."""
    members = summary["members"]
    for member in members:
        metrics.add("hapair_gr_member_state", 1,
                    {"member": member["host"], "state": member["state"], "role": member["role"]},
                    "Members of the group as this member sees them (1 per member, with its state and role).")
    online = sum(1 for m in members if m["state"] == "ONLINE")
    local_online = summary["state"] == "ONLINE"
    metrics.add("hapair_gr_local_online", 1 if local_online else 0, text="Whether this member is ONLINE.")
    metrics.add("hapair_gr_members", len(members), text="Members in this member's view of the group.")
    metrics.add("hapair_gr_members_online", online, text="ONLINE members in this member's view.")
    metrics.add("hapair_gr_quorum", 1 if local_online and online * 2 > len(members) else 0,
                text="Whether this member is ONLINE in a group whose majority is ONLINE.")
    metrics.add("hapair_gr_primary", 1 if summary["role"] == "PRIMARY" and local_online else 0,
                text="Whether this member is the ONLINE PRIMARY.")
    metrics.add("hapair_gr_applier_queue", summary["applier_queue"],
                text="Remote transactions waiting in this member's applier queue.")
    metrics.add("hapair_gr_certification_queue", summary["certification_queue"],
                text="Transactions waiting for certification on this member.")


def kafka_metrics(metrics, topics_under, offline, quorum):
    """Kafka metrics from the collection's parsed topics and quorum."""
    metrics.add("hapair_kafka_under_replicated_partitions", topics_under,
                text="Partitions whose in-sync replicas are fewer than their replicas.")
    metrics.add("hapair_kafka_offline_partitions", offline, text="Partitions without a leader.")
    has_leader = quorum.get("leader_id") is not None and not quorum.get("error") and not quorum.get("error_code")
    metrics.add("hapair_kafka_quorum_leader", 1 if has_leader else 0,
                text="Whether the KRaft metadata quorum has a leader.")
    voters = quorum.get("voters", [])
    metrics.add("hapair_kafka_quorum_voters", len(voters), text="Voters of the KRaft metadata quorum.")
    metrics.add("hapair_kafka_quorum_voters_fetching", sum(1 for v in voters if v.get("lag") is not None),
                text="Voters that have fetched from the quorum leader.")


def parse_flume_positions(text):
    """{inode: offset} from Flume TAILDIR's position file, a JSON list of
    {"inode": ..., "pos": ..., "file": ...}. Flume truncates and rewrites the
    file every writePosInterval, so an empty text is "no position yet"."""
    if not text.strip():
        return {}
    return {int(entry["inode"]): int(entry["pos"]) for entry in json.loads(text)}


RSYSLOG_STATE_NAME = re.compile(r"imfile-state:(\d+)(?::.*)?")


def parse_rsyslog_state(name, text):
    """(inode, offset) of one rsyslog imfile state file: its name is
    imfile-state:<inode> (rsyslog 8.1905 and later add :<file id>), its text
    JSON with curr_offs. None for any other file of the work directory."""
    match = RSYSLOG_STATE_NAME.fullmatch(name)
    if not match:
        return None
    return int(match.group(1)), int(json.loads(text)["curr_offs"])


def shipper_file_matches(pattern, names, kind):
    """Names (in the pattern's directory) of the files a shipper follows for
    one configured path: Flume TAILDIR takes the last part as a regex,
    rsyslog imfile as a shell wildcard."""
    base = os.path.basename(pattern)
    if kind == "flume":
        regex = re.compile(base)
        return sorted(name for name in names if regex.fullmatch(name))
    return sorted(name for name in names if fnmatch.fnmatchcase(name, base))


def shipper_metrics(metrics, unit, files, positions):
    """hapair_log_shipper_* from the watched files as they are now
    ([{"path", "inode", "size"}]) and the shipper's read positions
    ({inode: offset}). A file the shipper has not opened yet is at 0; a
    file truncated below the position has no lag."""
    for entry in files:
        labels = {"unit": unit, "file": entry["path"]}
        position = positions.get(entry["inode"], 0)
        metrics.add("hapair_log_shipper_file_size_bytes", entry["size"], labels,
                    "Size of a file the log shipper ships.")
        metrics.add("hapair_log_shipper_position_bytes", position, labels,
                    "How far the log shipper has read (and, for Flume, delivered) the file.")
        metrics.add("hapair_log_shipper_lag_bytes", max(entry["size"] - position, 0), labels,
                    "Bytes of the file the log shipper has not read yet.")


# --------------------------------------------------------------------------
# Reading the node.

def read_vips(metrics, config):
    manifest_path = config.get("keepalived_manifest", "/etc/keepalived/hapair-vips.json")
    if not os.path.exists(manifest_path):
        return
    with open(manifest_path, encoding="utf-8") as handle:
        manifest = json.load(handle)
    addresses = parse_ip_o_addr(subprocess.run(["ip", "-o", "addr"], capture_output=True, text=True,
                                               check=True, timeout=5).stdout)
    states = {}
    state_dir = manifest.get("state_dir", "/var/lib/hapair/vrrp")
    for instance in manifest.get("instances", []):
        path = os.path.join(state_dir, "%s.state" % instance.get("name", ""))
        try:
            with open(path, encoding="utf-8") as handle:
                states[instance["name"]] = json.load(handle).get("state", "STOP")
        except (OSError, ValueError):
            states[instance.get("name", "")] = "STOP"
    vip_metrics(metrics, manifest, addresses, states, unit_active("keepalived"))


def read_gr(metrics, config):
    sys.path.insert(0, HERE)
    import pymysql  # pylint: disable=import-outside-toplevel
    import pymysql.cursors  # pylint: disable=import-outside-toplevel
    import hapair_gr_status as gr  # pylint: disable=import-outside-toplevel

    connection = pymysql.connect(unix_socket=config.get("mysql_socket", "/run/mysqld/mysqld.sock"),
                                 user=config["mysql_user"], password=config["mysql_password"],
                                 connect_timeout=5, read_timeout=10,
                                 cursorclass=pymysql.cursors.DictCursor)
    try:
        with connection.cursor() as cursor:
            raw = gr.collect(cursor)
    finally:
        connection.close()
    gr_metrics(metrics, gr.summarize(raw))


def read_kafka(metrics, config):
    sys.path.insert(0, HERE)
    try:
        import ansible.module_utils.basic  # noqa: F401 pylint: disable=import-outside-toplevel,unused-import
    except ImportError:
        # The collection's Kafka code names the missing library through
        # Ansible's helper; a node has no Ansible, so give it that one name.
        for name in ("ansible", "ansible.module_utils"):
            sys.modules.setdefault(name, types.ModuleType(name))
        basic = types.ModuleType("ansible.module_utils.basic")
        basic.missing_required_lib = lambda library, **_: "%s is missing" % library
        sys.modules["ansible.module_utils.basic"] = basic
    import hapair_kafka as k  # pylint: disable=import-outside-toplevel

    if not k.HAS_KAFKA:
        raise RuntimeError(k.KAFKA_LIBRARY + " is missing")
    timeout = float(config.get("kafka_timeout", 5))
    admin = k.connect(config["kafka_bootstrap"], timeout)
    try:
        topics = k.parse_topics(k.fetch_topics(admin, None), include_internal=False)
        try:
            quorum = k.parse_quorum(k.fetch_quorum(config["kafka_bootstrap"], timeout), int(time.time() * 1000))
        except Exception as exc:  # pylint: disable=broad-except
            # No answer is a quorum without a leader (the alert); the journal says why.
            quorum = k.quorum_error(exc)
            print("kafka: DescribeQuorum: %s" % quorum["error"], file=sys.stderr)
    finally:
        admin.close()
    offline = sum(1 for t in topics for p in t["partitions"] if p["offline"])
    kafka_metrics(metrics, len(k.under_replicated(topics)), offline, quorum)


def unit_active(unit):
    out = subprocess.run(["systemctl", "is-active", unit], capture_output=True, text=True, check=False, timeout=5)
    return out.stdout.strip() == "active"


def read_units(metrics, config):
    for unit in config.get("units", []):
        metrics.add("hapair_unit_active", 1 if unit_active(unit["name"]) else 0,
                    {"unit": unit["name"], "role": unit.get("role", "service")},
                    "Whether the systemd unit is active.")


def read_retrying(path, parse, attempts=3):
    """parse(text of path); a file caught while it is rewritten (Flume
    truncates its position file, then writes it) is read again 0.1 s later."""
    for attempt in range(1, attempts + 1):
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
        if text.strip() or attempt == attempts:
            try:
                return parse(text)
            except ValueError:
                if attempt == attempts:
                    raise
        time.sleep(0.1)
    raise AssertionError("unreachable")


def shipper_positions(shipper):
    if shipper["kind"] == "flume":
        path = shipper["position_file"]
        # No file yet: the agent has not tailed anything.
        return read_retrying(path, parse_flume_positions) if os.path.exists(path) else {}
    positions = {}
    state_dir = shipper["state_dir"]
    if not os.path.isdir(state_dir):
        # No work directory yet: rsyslog has read nothing.
        return positions
    names = [n for n in os.listdir(state_dir) if RSYSLOG_STATE_NAME.fullmatch(n)]
    # Several states of one inode (an older file had it): the newest wins.
    for name in sorted(names, key=lambda n: os.stat(os.path.join(state_dir, n)).st_mtime):
        inode, offset = read_retrying(os.path.join(state_dir, name),
                                      lambda text, name=name: parse_rsyslog_state(name, text))
        positions[inode] = offset
    return positions


def read_shipper(metrics, config):
    shipper = config.get("shipper")
    if not shipper:
        return
    files = []
    for pattern in shipper["files"]:
        directory = os.path.dirname(pattern)
        if not os.path.isdir(directory):
            continue
        for name in shipper_file_matches(pattern, os.listdir(directory), shipper["kind"]):
            path = os.path.join(directory, name)
            info = os.stat(path)
            files.append({"path": path, "inode": info.st_ino, "size": info.st_size})
    shipper_metrics(metrics, shipper["unit"], files, shipper_positions(shipper))


PARTS = (("vip", read_vips), ("gr", read_gr), ("kafka", read_kafka), ("units", read_units),
         ("shipper", read_shipper))


def collect(config):
    metrics = Metrics()
    for part, reader in PARTS:
        if not config.get("parts", {}).get(part, True):
            continue
        ok = 1
        try:
            reader(metrics, config)
        except Exception as exc:  # pylint: disable=broad-except
            ok = 0
            # The type and the message; never the config (it holds a password).
            sys.stderr.write("hapair-textfile: %s: %s: %s\n" % (part, type(exc).__name__, exc))
        metrics.add("hapair_textfile_part_up", ok, {"part": part}, "Whether the part could be read.")
    metrics.add("hapair_textfile_timestamp_seconds", time.time(), text="When the file was written.")
    return metrics.render()


def write_atomically(path, text):
    directory = os.path.dirname(path) or "."
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".hapair.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def main(argv=None):
    import argparse  # pylint: disable=import-outside-toplevel

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--config", default="/etc/hapair/textfile.json")
    parser.add_argument("--out", default="/var/lib/prometheus/node-exporter/hapair.prom")
    args = parser.parse_args(argv)
    with open(args.config, encoding="utf-8") as handle:
        config = json.load(handle)
    write_atomically(args.out, collect(config))
    return 0


if __name__ == "__main__":
    sys.exit(main())
