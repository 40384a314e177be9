"""playbooks/recover.yml on the two-member group (runs last: it kills a node).
It refuses while the peer is alive and changes nothing; once the preferred
node (primary) is killed, which the other node never survives alone in the
tiebreaker topology, it makes the survivor writable (the canary's writes through
the web VIP land there); the killed node, started again, rejoins on its own
and the pair is left whole (both ONLINE, both VIPs held). Deadlines are
generous; measured times are printed (MEASURE lines) for the notes."""

import importlib.util
import os
import subprocess
import time
from pathlib import Path

_spec = importlib.util.spec_from_file_location(
    "gr_drill", Path(__file__).resolve().parents[2] / "shared" / "gr_drill.py")
gr = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gr)

RECOVER_DEADLINE = 600
REJOIN_DEADLINE = 300
VIP_DEADLINE = 60


def states(lab, seen_from):
    return gr.pair_states(lab, seen_from)


def primary(lab, seen_from):
    return gr.pair_primary(lab, seen_from)


def recover(survivor, timeout=RECOVER_DEADLINE):
    env = dict(os.environ)
    env.setdefault("ANSIBLE_COLLECTIONS_PATH", str(gr.REPO / ".collections"))
    return subprocess.run(
        ["ansible-playbook", "-i", os.path.join(os.environ["MOLECULE_SCENARIO_DIRECTORY"], "inventory"),
         str(gr.REPO / "playbooks" / "recover.yml"), "-e", f"recover_survivor={survivor}"],
        check=False, capture_output=True, text=True, timeout=timeout, env=env)


def test_recover_refuses_while_the_peer_is_alive(lab):
    old = primary(lab, lab["pair"][0])
    survivor = next(n for n in lab["pair"] if n != old)
    before = states(lab, survivor)
    run = recover(survivor)
    # ansible-core 2.19 prints a task's failure on stderr and the recap on stdout.
    output = run.stdout + run.stderr
    assert run.returncode != 0, output
    assert "REFUSED, nothing changed" in output and "answers ping" in output, output
    assert "changed=0" in run.stdout.split("PLAY RECAP")[-1], output
    assert states(lab, survivor) == before
    assert primary(lab, survivor) == old


def test_recover_after_the_primary_is_killed_and_the_peer_rejoins(lab, tmp_path):
    # The preferred node, primary: its loss is the one a tiebreaker pair
    # does not survive alone (the other node never continues alone).
    old = lab["preferred"]
    gr.pair_make_primary(lab, old)
    survivor = next(n for n in lab["pair"] if n != old)
    probe = gr.Probe(tmp_path / "probe.jsonl", lab["web_vip"], lab["state_urls"])
    try:
        time.sleep(5)
        probe.mark(f"docker kill {lab['containers'][old]}")
        t_kill = time.time()
        subprocess.run(["docker", "kill", lab["containers"][old]], check=True, capture_output=True, timeout=60)
        time.sleep(2)
        probe.mark("recover.yml")
        t_recover = time.time()
        run = recover(survivor)
        recover_seconds = time.time() - t_recover
        assert run.returncode == 0, run.stdout + run.stderr
        assert gr.node_sql(lab["containers"][survivor], "SELECT @@super_read_only")[0][0] == "0"
        gr.wait_for(f"the database VIP on {survivor}",
                    lambda: gr.vip_holders({survivor: lab["containers"][survivor]}, lab["db_vip"]) == [survivor],
                    VIP_DEADLINE)
        time.sleep(5)
        probe.mark("survivor writable")
    finally:
        records = probe.stop()
    writes = records["writes"]
    after = [w for w in writes if w["sent"] > t_recover and w.get("ok")]
    assert after and after[-1]["db"] == survivor, "the canary's writes do not land on the survivor"
    result = gr.drill.analyze(records, gr.rows_by_member({survivor: lab["containers"][survivor]}, probe.first_seq))
    gr.report("pair_recover", result, {"recover_playbook_s": round(recover_seconds, 1),
                                       "kill_to_first_write_s": gr.first_ok_after(writes, t_kill)})
    assert result["lost_writes"] == [], result["lost_by_member"]

    # The killed node starts again and rejoins with no manual step.
    subprocess.run(["docker", "start", lab["containers"][old]], check=True, capture_output=True, timeout=120)
    took = gr.wait_for(f"{old} ONLINE again", lambda: sorted(
        n for n, (state, _unused) in states(lab, survivor).items() if state == "ONLINE") == sorted(lab["pair"]),
        REJOIN_DEADLINE)
    print(f"MEASURE {{\"scenario\": \"pair_rejoin\", \"start_to_online_s\": {took:.1f}}}")
    # Every acknowledged write is on the returning node too.
    gr.wait_for("the returning node holds every acknowledged write",
                lambda: not gr.drill.lost_writes(writes, {old: gr.rows_by_member(
                    {old: lab["containers"][old]}, probe.first_seq)[old].keys()})[old], REJOIN_DEADLINE)


def test_the_pair_is_left_whole(lab):
    seen_from = lab["pair"][0]
    assert sorted(n for n, (state, _unused) in states(lab, seen_from).items() if state == "ONLINE") == sorted(lab["pair"])
    gr.wait_for("the database VIP on the primary's node",
                lambda: gr.vip_holders(lab["containers"], lab["db_vip"]) == [primary(lab, seen_from)], VIP_DEADLINE)
    gr.wait_for("the web VIP on one node", lambda: len(gr.vip_holders(lab["containers"], lab["web_vip"])) == 1,
                VIP_DEADLINE)
