"""The pair without a witness survives the loss of either server with no
operator (runs before test_zz_recover, after the traffic and data tests).

- tiebreaker (the scenario's topology): the node that is not preferred is
  killed: the preferred node continues alone and takes writes within
  seconds; the killed node, started again, rejoins on its own. Then the
  preferred node crashes and comes straight back: the pair heals itself
  (the member holding every transaction starts the group, the other joins).
- fencing (the guard reconfigured with lab/fencing.yml, the lab's fence
  device on the controller): the preferred node, primary, is killed: the
  other node fences it through the device (which powers it on again, like a
  BMC's power cycle), continues alone, and the fenced node rejoins.

Every acknowledged write is on both members afterwards. Deadlines are
generous; measured times are printed (MEASURE lines) for the notes and the
README."""

import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location(
    "gr_drill", Path(__file__).resolve().parents[2] / "shared" / "gr_drill.py")
gr = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gr)

WRITES_DEADLINE = 120
REJOIN_DEADLINE = 300
INVENTORY = os.path.join(os.environ.get("MOLECULE_SCENARIO_DIRECTORY", "."), "inventory")


def other(lab, node):
    return next(n for n in lab["pair"] if n != node)


def both_online(lab, seen_from):
    return gr.pair_online(lab, seen_from) == sorted(lab["pair"])


def lost_on_every_member(lab, probe, writes):
    rows = gr.rows_by_member(lab["containers"], probe.first_seq)
    return {member: missing for member, missing in gr.drill.lost_writes(writes, {
        m: r.keys() for m, r in rows.items()}).items() if missing}


def crash(lab, node, probe, come_back_after=None):
    """Kills NODE's container under the probe's writes; starts it again after
    COME_BACK_AFTER seconds (None: once writes are acknowledged again).
    Returns (records, kill time, start time)."""
    container = lab["containers"][node]
    try:
        time.sleep(4)
        probe.mark(f"docker kill {container}")
        t_kill = time.time()
        subprocess.run(["docker", "kill", container], check=True, capture_output=True, timeout=60)
        if come_back_after is None:
            # Writes resume: one sent a second after the kill is acknowledged.
            gr.wait_for(f"writes acknowledged without {node}", lambda: gr.first_ok_after(
                gr.drill.parse_records(probe.out.read_text(encoding="utf-8"))["writes"], t_kill + 1) is not None,
                WRITES_DEADLINE)
            time.sleep(5)
        else:
            # Started again once the survivor noticed the loss (the group marks
            # a silent member UNREACHABLE after about 5 s), as a crash is.
            survivor = other(lab, node)
            gr.wait_for(f"{survivor} noticing the loss of {node}",
                        lambda: node not in gr.pair_online(lab, survivor), WRITES_DEADLINE)
            time.sleep(come_back_after)
        probe.mark(f"docker start {container}")
        t_start = time.time()
        subprocess.run(["docker", "start", container], check=True, capture_output=True, timeout=120)
        gr.wait_for(f"{node} rejoined", lambda: both_online(lab, other(lab, node)), REJOIN_DEADLINE)
        gr.wait_for("a write through the web VIP", lambda: gr.first_ok_after(
            gr.drill.parse_records(probe.out.read_text(encoding="utf-8"))["writes"], time.time() - 1) is not None,
            REJOIN_DEADLINE)
        probe.mark("pair whole")
    finally:
        records = probe.stop()
    return records, t_kill, t_start


def check_and_report(lab, name, probe, records, t_kill, t_start):
    writes = records["writes"]
    gr.wait_for("every acknowledged write on both members",
                lambda: not lost_on_every_member(lab, probe, writes), REJOIN_DEADLINE)
    result = gr.drill.analyze(records, gr.rows_by_member(lab["containers"], probe.first_seq))
    rejoined = max(time.time() - t_start, 0)
    gr.report(name, result, {"kill_to_first_write_s": gr.first_ok_after(writes, t_kill),
                             "start_to_whole_s_at_most": round(rejoined, 1)})
    assert result["lost_writes"] == [], result["lost_by_member"]
    assert not result["divergent_commits"], result["divergent_commits"]
    # The web VIP on both nodes at once: reported (a VRRP matter), the data never splits.
    print("MEASURE " + json.dumps({"scenario": name, "web_vip_double_master": result["double_masters"]}))
    return result


def test_losing_the_other_node_costs_seconds_and_it_rejoins_alone(lab, tmp_path):
    preferred = lab["preferred"]
    gr.pair_make_primary(lab, preferred)
    probe = gr.Probe(tmp_path / "probe.jsonl", lab["web_vip"], lab["state_urls"])
    records, t_kill, t_start = crash(lab, other(lab, preferred), probe)
    check_and_report(lab, "tiebreaker_other_lost", probe, records, t_kill, t_start)
    assert gr.first_ok_after(records["writes"], t_kill) < WRITES_DEADLINE


def test_a_crashed_preferred_node_that_comes_back_heals_the_pair(lab, tmp_path):
    probe = gr.Probe(tmp_path / "probe.jsonl", lab["web_vip"], lab["state_urls"])
    records, t_kill, t_start = crash(lab, lab["preferred"], probe, come_back_after=1)
    check_and_report(lab, "tiebreaker_preferred_crash_return", probe, records, t_kill, t_start)


def converge_guard(*extra):
    """Re-runs the guard's part of site.yml (preflight always runs)."""
    env = dict(os.environ)
    env.setdefault("ANSIBLE_COLLECTIONS_PATH", str(gr.REPO / ".collections"))
    run = subprocess.run(["ansible-playbook", "-i", INVENTORY, str(gr.REPO / "playbooks" / "site.yml"),
                          "--tags", "mysql_gr_guard", *extra], check=False, capture_output=True, text=True, timeout=900, env=env)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]


@pytest.fixture
def fencing(tmp_path):
    """The lab's fence device on the controller, and the pair's guard in the
    fencing topology; both undone afterwards."""
    log = tmp_path / "fence-device.log"
    with open(log, "w", encoding="utf-8") as out:
        device = subprocess.Popen([sys.executable, str(gr.REPO / "lab" / "fence-device.py"),
                                   "--inventory", INVENTORY], stdout=out, stderr=subprocess.STDOUT)
    try:
        gr.wait_for("the fence device listening", lambda: "listening" in log.read_text(encoding="utf-8"), 60)
        converge_guard("-e", f"@{gr.REPO / 'lab' / 'fencing.yml'}")
        yield log
    finally:
        device.terminate()
        device.wait(timeout=30)
        converge_guard()


def test_fencing_the_lost_primary_lets_the_other_node_continue(lab, fencing, tmp_path):
    preferred = lab["preferred"]
    gr.pair_make_primary(lab, preferred)
    probe = gr.Probe(tmp_path / "probe.jsonl", lab["web_vip"], lab["state_urls"])
    # The fence device powers the node on again 5 s after fencing it: no
    # docker start here, the crash() start below finds it running.
    records, t_kill, t_start = crash(lab, preferred, probe)
    fenced = [json.loads(line) for line in fencing.read_text(encoding="utf-8").splitlines()[1:]]
    assert [(f["node"], f["action"], f["status"]) for f in fenced] == [(preferred, "reboot", 200)], fenced
    assert fenced[0]["from"] == lab["address"][other(lab, preferred)]
    check_and_report(lab, "fencing_preferred_lost", probe, records, t_kill, t_start)
