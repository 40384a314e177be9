"""The restore drill (role hapair.stack.backup, playbooks/restore.yml): with
the canary writing through the web VIP (the drill's probe, 20 writes a
second), the SECONDARY's daily backup runs (a clone into Borg), more writes
are acknowledged, a point in time T is taken, writes go on, the binary logs
are archived, and restore.yml restores T onto the scratch mysqld of the
node that holds the backup. Then:

- every write acknowledged before T is in the restored table;
- no write sent after T is (the replay stops at the first transaction
  committed at or after T);
- writes sent before T but acknowledged after it may or may not be there
  (counted, not asserted);
- the primary's own run of the backup job skips, and says why;
- the node-exporter textfile carries the backup's time and size.

The scratch mysqld is stopped at the end; the pair is not touched (its
writes go on through the drill). Measured times are printed (MEASURE
lines). Runs after test_w_data_check, before test_y_survive (file order).
In the lab (one machine, 2 cores): about 60 s."""

import datetime as dt
import importlib.util
import json
import os
import subprocess
import time
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location(
    "gr_drill", Path(__file__).resolve().parents[2] / "shared" / "gr_drill.py")
gr = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gr)

SCRATCH_SOCKET = "/run/mysqld/hapair-restore.sock"
METRICS = "/var/lib/prometheus/node-exporter/hapair_backup.prom"
REPORT = "/var/lib/hapair-restore/report.json"
BACKUP_DEADLINE = 300
RESTORE_DEADLINE = 600


def node(container, *args, check=True, timeout=BACKUP_DEADLINE):
    return subprocess.run(["docker", "exec", container, *args], check=check, capture_output=True, text=True,
                          timeout=timeout)


def restore(host, until, action="restore"):
    env = dict(os.environ)
    env.setdefault("ANSIBLE_COLLECTIONS_PATH", str(gr.REPO / ".collections"))
    return subprocess.run(
        ["ansible-playbook", "-i", os.path.join(os.environ["MOLECULE_SCENARIO_DIRECTORY"], "inventory"),
         str(gr.REPO / "playbooks" / "restore.yml"), "-e", f"restore_host={host}", "-e", f"restore_until={until}",
         "-e", f"restore_action={action}", "-e", "ansible_verbosity=0"],
        check=False, capture_output=True, text=True, timeout=RESTORE_DEADLINE, env=env)


@pytest.fixture(scope="module")
def drill(lab, tmp_path_factory):
    primary = gr.pair_primary(lab, lab["pair"][0])
    secondary = [n for n in lab["pair"] if n != primary][0]
    probe = gr.Probe(tmp_path_factory.mktemp("backup") / "probe.jsonl", lab["web_vip"], lab["state_urls"], rate=20)
    result = {"primary": primary, "secondary": secondary, "first_seq": probe.first_seq}
    try:
        time.sleep(3)
        skipped = node(lab["containers"][primary], "/usr/local/lib/hapair/hapair-backup", "database")
        result["primary_log"] = skipped.stdout
        t0 = time.monotonic()
        node(lab["containers"][secondary], "systemctl", "start", "hapair-backup.service")
        result["backup_seconds"] = round(time.monotonic() - t0, 2)
        result["backup_done"] = time.time()
        time.sleep(4)
        result["until"] = time.time()
        time.sleep(3)
    finally:
        records = probe.stop()
    t0 = time.monotonic()
    node(lab["containers"][secondary], "systemctl", "start", "hapair-binlog-archive.service")
    result["binlog_archive_seconds"] = round(time.monotonic() - t0, 2)
    until = dt.datetime.fromtimestamp(result["until"], dt.timezone.utc).isoformat()
    t0 = time.monotonic()
    run = restore(secondary, until)
    result["restore_playbook_seconds"] = round(time.monotonic() - t0, 2)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    # hapair-backup restore leaves its report beside the scratch data directory.
    result["report"] = json.loads(node(lab["containers"][secondary], "cat", REPORT).stdout)
    rows = gr.node_sql(lab["containers"][secondary],
                       f"SELECT seq FROM hapair.canary_writes WHERE seq >= {int(probe.first_seq)}")
    result["restored"] = set()
    out = node(lab["containers"][secondary], "mysql", "-S", SCRATCH_SOCKET, "-N", "-B", "-e",
               f"SELECT seq FROM hapair.canary_writes WHERE seq >= {int(probe.first_seq)}")
    result["restored"] = {int(line) for line in out.stdout.split()}
    result["live"] = {int(r[0]) for r in rows}
    result["writes"] = records["writes"]
    result["metrics"] = node(lab["containers"][secondary], "cat", METRICS).stdout
    yield result
    stop = restore(secondary, until, action="stop")
    assert stop.returncode == 0, stop.stdout[-2000:]


def test_every_write_acknowledged_before_the_point_is_restored(drill):
    t = drill["until"]
    acked = {w["seq"] for w in drill["writes"] if w.get("ok") and w["answered"] < t}
    assert len(acked) > 50, f"too few acknowledged writes before T to prove anything: {len(acked)}"
    missing = sorted(acked - drill["restored"])
    assert not missing, f"{len(missing)} writes acknowledged before T are not restored: {missing[:20]}"
    after = {w["seq"] for w in drill["writes"] if w["sent"] >= t}
    leaked = sorted(after & drill["restored"])
    in_flight = {w["seq"] for w in drill["writes"] if w["sent"] < t <= w.get("answered", t)} & drill["restored"]
    report = drill["report"]
    print("MEASURE " + json.dumps({
        "scenario": "backup_restore", "backup_seconds": drill["backup_seconds"],
        "binlog_archive_seconds": drill["binlog_archive_seconds"],
        "restore_playbook_seconds": drill["restore_playbook_seconds"],
        "extract_seconds": report["extract_seconds"], "start_seconds": report["start_seconds"],
        "replay_seconds": report["replay_seconds"], "restore_seconds": report["total_seconds"],
        "acked_before_t": len(acked), "restored_from_drill": len(drill["restored"]),
        "in_flight_at_t_restored": len(in_flight), "sent_after_t_restored": len(leaked),
        "rows": report["rows"]}, sort_keys=True))
    assert not leaked, f"writes sent after T were restored: {leaked[:20]}"
    # Writes sent after the backup finished came back through the binary logs.
    replayed = {w["seq"] for w in drill["writes"] if w.get("ok") and drill["backup_done"] < w["sent"]
                and w["answered"] < t}
    assert replayed and replayed <= drill["restored"], len(replayed)
    # The live pair has every acknowledged write too (the drill touched nothing).
    assert not {w["seq"] for w in drill["writes"] if w.get("ok")} - drill["live"]


def test_the_restore_started_from_the_backup_and_replayed_binary_logs(drill):
    report = drill["report"]
    assert report["archive"].startswith(f"{drill['secondary']}-db-")
    assert report["binlogs_replayed"], report
    assert report["gtid_executed_restored"] != report["gtid_executed_clone"], report


def test_the_primary_skips_its_backup_and_says_why(drill):
    assert "skipped: this member is the PRIMARY" in drill["primary_log"], drill["primary_log"]


def test_the_backup_exports_its_age_and_the_repository_size(drill):
    values = {line.split()[0]: float(line.split()[1]) for line in drill["metrics"].splitlines()
              if line.startswith("hapair_backup_")}
    assert time.time() - values["hapair_backup_last_success_timestamp_seconds"] < 600
    assert values["hapair_backup_repository_size_bytes"] > 0
    assert values["hapair_backup_last_failed"] == 0
