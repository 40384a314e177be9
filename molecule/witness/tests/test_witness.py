"""The witness topology: a group of the pair's two nodes and a witness
(election weight 0). Killing the primary's node elects the other pair node
alone, the database VIP follows, the canary keeps taking writes through the
web VIP and no acknowledged write is lost; the killed node rejoins on its
own once it is started again. Deadlines are generous; the measured times
are printed (MEASURE lines) and go in the notes, not in asserts."""

import importlib.util
import subprocess
import time
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location(
    "gr_drill", Path(__file__).resolve().parents[2] / "shared" / "gr_drill.py")
gr = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gr)

FAILOVER_DEADLINE = 120
REJOIN_DEADLINE = 300


@pytest.fixture(scope="module")
def lab(inventory):
    """The pair's nodes, the witness, their containers, addresses and VIPs."""
    hostvars = inventory["_meta"]["hostvars"]
    pair_name = next(hv["hapair_pair_group"] for hv in hostvars.values())
    pair = list(inventory[pair_name]["hosts"])
    witness_group = hostvars[pair[0]]["hapair_witness_group"]
    witnesses = list(inventory[witness_group]["hosts"])
    everyone = pair + witnesses
    return {
        "pair": pair,
        "witnesses": witnesses,
        "containers": {n: hostvars[n]["ansible_host"] for n in everyone},
        "address": {n: hostvars[n]["hapair_node_address"] for n in everyone},
        "web_vip": hostvars[pair[0]]["hapair_web_vip"],
        "db_vip": hostvars[pair[0]]["hapair_db_vip"],
        "state_urls": {n: f"http://{hostvars[n]['hapair_node_address']}:{hostvars[n].get('canary_port', 8080)}/state"
                       for n in pair},
    }


def named(lab, rows):
    """Member rows keyed by inventory name instead of address."""
    by_address = {a: n for n, a in lab["address"].items()}
    return {by_address[r[0]]: r for r in rows}


def primary(lab, seen_from):
    rows = named(lab, gr.members(lab["containers"][seen_from]))
    return next(n for n, r in rows.items() if r[1] == "ONLINE" and r[2] == "PRIMARY")


def test_the_group_has_three_online_members_and_one_primary(lab):
    rows = named(lab, gr.members(lab["containers"][lab["pair"][0]]))
    assert sorted(rows) == sorted(lab["pair"] + lab["witnesses"]), rows
    assert all(r[1] == "ONLINE" for r in rows.values()), rows
    assert [r[2] for r in rows.values()].count("PRIMARY") == 1, rows


def test_the_witness_is_never_primary(lab):
    for witness in lab["witnesses"]:
        container = lab["containers"][witness]
        assert gr.node_sql(container, "SELECT @@group_replication_member_weight")[0][0] == "0"
        role = named(lab, gr.members(container))[witness][2]
        assert role == "SECONDARY"
        assert gr.node_sql(container, "SELECT @@super_read_only")[0][0] == "1"


def test_killing_the_primarys_node_fails_over_without_losing_a_write(lab, tmp_path):
    old = primary(lab, lab["pair"][0])
    assert old in lab["pair"], f"the witness {old} is primary"
    other = next(n for n in lab["pair"] if n != old)
    survivors = {n: c for n, c in lab["containers"].items() if n != old}
    probe = gr.Probe(tmp_path / "probe.jsonl", lab["web_vip"], lab["state_urls"])
    killed = False
    try:
        time.sleep(5)  # a steady stream before the fault
        probe.mark(f"docker kill {lab['containers'][old]}")
        t_kill = time.time()
        subprocess.run(["docker", "kill", lab["containers"][old]], check=True, capture_output=True, timeout=60)
        killed = True
        to_primary = gr.wait_for(f"{other} becomes PRIMARY", lambda: primary(lab, other) == other, FAILOVER_DEADLINE)
        to_vip = gr.wait_for(f"the database VIP on {other}",
                             lambda: gr.vip_holders({n: lab["containers"][n] for n in lab["pair"] if n != old},
                                                    lab["db_vip"]) == [other], FAILOVER_DEADLINE)
        time.sleep(5)  # writes flow again through the survivor
        probe.mark("survivor writable")
    finally:
        records = probe.stop()
    writes = records["writes"]
    after = [w for w in writes if w["sent"] > t_kill and w.get("ok")]
    assert after, "the canary accepted no write after the kill"
    assert {w["db"] for w in after[-20:]} == {other}, "the last writes were not committed on the new primary"
    result = gr.drill.analyze(records, gr.rows_by_member(survivors, probe.first_seq))
    gr.report("witness_node_killed", result, {
        "kill_to_primary_s": round(to_primary, 2), "kill_to_db_vip_s": round(to_vip, 2),
        "kill_to_first_write_s": gr.first_ok_after(writes, t_kill)})
    assert result["lost_writes"] == [], result["lost_by_member"]
    assert not result["split_brain"], result
    assert killed


def test_the_killed_node_rejoins_with_no_manual_step(lab):
    stopped = [n for n in lab["pair"]
               if subprocess.run(["docker", "inspect", "-f", "{{.State.Running}}", lab["containers"][n]],
                                 check=False, capture_output=True, text=True).stdout.strip() != "true"]
    for name in stopped:
        subprocess.run(["docker", "start", lab["containers"][name]], check=True, capture_output=True, timeout=120)
    seen_from = lab["witnesses"][0]
    took = gr.wait_for("every member ONLINE again", lambda: sorted(
        n for n, r in named(lab, gr.members(lab["containers"][seen_from])).items() if r[1] == "ONLINE")
        == sorted(lab["pair"] + lab["witnesses"]), REJOIN_DEADLINE)
    # The pair serves again: one database VIP holder (the primary's node),
    # one web VIP holder.
    pair_containers = {n: lab["containers"][n] for n in lab["pair"]}
    gr.wait_for("the database VIP on the primary's node",
                lambda: gr.vip_holders(pair_containers, lab["db_vip"]) == [primary(lab, seen_from)], FAILOVER_DEADLINE)
    gr.wait_for("the web VIP on one node", lambda: len(gr.vip_holders(pair_containers, lab["web_vip"])) == 1,
                FAILOVER_DEADLINE)
    print(f"MEASURE {{\"scenario\": \"witness_rejoin\", \"start_to_online_s\": {took:.1f}, \"restarted\": {stopped}}}")
