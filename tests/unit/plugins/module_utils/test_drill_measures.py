"""Unit tests of the drill's measurements (plugins/module_utils/drill.py)."""

import json
import xml.etree.ElementTree as ET

import pytest

from ansible_collections.hapair.stack.plugins.module_utils import drill


def w(seq, sent, ok=True, took=0.01, db="ha1", node="ha1"):
    return {"type": "write", "seq": seq, "sent": sent, "answered": sent + took, "ok": ok, "db": db, "node": node}


def s(t, node, vrrp="BACKUP", role="SECONDARY", ok=True):
    return {"type": "state", "t": t, "node": node, "ok": ok, "vrrp": {"web": vrrp}, "gr_role": role}


def test_parse_records_splits_and_sorts():
    text = "\n".join(
        json.dumps(r) for r in [w(2, 2.0), {"type": "mark", "t": 1.5, "event": "inject"}, w(1, 1.0), s(1.1, "ha1")]
    )
    parsed = drill.parse_records(text + "\n\n")
    assert [r["seq"] for r in parsed["writes"]] == [1, 2]
    assert parsed["marks"][0]["event"] == "inject"
    assert len(parsed["states"]) == 1


def test_parse_records_names_the_bad_line():
    with pytest.raises(ValueError, match="probe record 2"):
        drill.parse_records('{"type": "mark", "t": 1}\nnot json\n')


def test_longest_outage_is_the_widest_gap_between_successes():
    writes = [w(i, i * 0.02) for i in range(50)]  # 1 s of steady success
    writes += [w(100 + i, 1.0 + i * 0.02, ok=False) for i in range(100)]  # 2 s of failures
    writes += [w(300 + i, 3.0 + i * 0.02) for i in range(50)]
    seconds, start, end = drill.longest_outage(writes)
    assert seconds == pytest.approx(2.02, abs=0.001)
    assert start == pytest.approx(0.99) and end == pytest.approx(3.01)


def test_longest_outage_counts_a_failure_at_the_end_of_the_window():
    writes = [w(1, 0.0), w(2, 0.5, ok=False, took=2.0)]
    assert drill.longest_outage(writes)[0] == pytest.approx(2.49, abs=0.001)


def test_lost_writes_are_acknowledged_writes_missing_on_a_member():
    writes = [w(1, 0.0), w(2, 0.1), w(3, 0.2, ok=False)]
    lost = drill.lost_writes(writes, {"ha1": [1, 2, 3], "ha2": [1]})
    assert lost == {"ha1": [], "ha2": [2]}


def test_failed_writes_that_committed_are_reported():
    writes = [w(1, 0.0), w(2, 0.1, ok=False), w(3, 0.2, ok=False)]
    assert drill.committed_unacknowledged(writes, {"ha1": [1, 2], "ha2": [1]}) == [2]


def test_divergent_commits_are_a_split_brain():
    assert drill.divergent_commits({"ha1": {1: "ha1", 2: "ha1"}, "ha2": {1: "ha1", 2: "ha2"}}) == [2]
    assert drill.divergent_commits({"ha1": {1: "ha1"}, "ha2": {1: "ha1"}}) == []


def test_double_masters_finds_overlapping_master_claims():
    states = [
        s(0.0, "ha1", "MASTER"),
        s(0.1, "ha2", "BACKUP"),
        s(1.0, "ha2", "MASTER"),  # both known MASTER from here
        s(1.1, "ha1", "MASTER"),  # ...to here
        s(1.15, "ha2", "MASTER"),
        s(1.2, "ha1", "BACKUP"),
        s(2.0, "ha2", "MASTER"),
    ]
    assert drill.double_masters(states, "web") == [(1.0, 1.1, ["ha1", "ha2"])]


def test_a_clean_handover_between_readings_is_no_split_brain():
    # ha1 was last read MASTER at 0.9 and stopped before its next reading;
    # ha2 took over at 1.0: the readings never show both at once.
    states = [
        s(0.7, "ha1", "MASTER"),
        s(0.9, "ha1", "MASTER"),
        s(0.95, "ha2", "BACKUP"),
        s(1.05, "ha2", "MASTER"),
        s(1.1, "ha1", "BACKUP"),
        s(1.25, "ha2", "MASTER"),
    ]
    assert drill.double_masters(states, "web") == []


def test_an_unreadable_node_is_not_counted_as_master():
    states = [s(0.0, "ha1", "MASTER"), s(0.5, "ha1", ok=False), s(0.6, "ha2", "MASTER")]
    assert drill.double_masters(states, "web") == []


def test_held_addresses_decide_over_a_stale_recorded_state():
    # keepalived stopped on ha1: its state file still says MASTER, but the
    # kernel no longer holds the VIP there, so there is no split brain...
    stopped = [
        dict(s(0.0, "ha1", "MASTER"), held={"web": False}),
        dict(s(0.1, "ha2", "MASTER"), held={"web": True}),
        dict(s(0.2, "ha1", "MASTER"), held={"web": False}),
        dict(s(0.3, "ha2", "MASTER"), held={"web": True}),
    ]
    assert drill.double_masters(stopped, "web") == []
    # ...while both kernels holding it is one, whatever the state files say.
    both = [
        dict(s(0.0, "ha1", "BACKUP"), held={"web": True}),
        dict(s(0.1, "ha2", "MASTER"), held={"web": True}),
        dict(s(0.2, "ha1", "BACKUP"), held={"web": True}),
        dict(s(0.3, "ha2", "MASTER"), held={"web": True}),
    ]
    assert drill.double_masters(both, "web") == [(0.1, 0.2, ["ha1", "ha2"])]
    # A reading without addresses for the instance falls back to the state.
    assert drill.holds_vip(dict(s(0.0, "ha1", "MASTER"), held={}), "web")
    assert not drill.holds_vip(dict(s(0.0, "ha1", "MASTER"), held={"web": True}, ok=False), "web")


def test_holders_over_time():
    states = [
        s(0.0, "ha1", "MASTER", "PRIMARY"),
        s(0.1, "ha2", "BACKUP"),
        s(1.0, "ha1", ok=False),
        s(1.1, "ha2", "MASTER", "PRIMARY"),
        s(2.0, "ha2", "MASTER", "PRIMARY"),
    ]
    spans = drill.holders(states, lambda r: (r.get("vrrp") or {}).get("web") == "MASTER")
    assert spans == [(0.0, 1.0, "ha1"), (1.0, 1.1, None), (1.1, 2.0, "ha2")]


def scenario(ok_until=1.0, down=1.5, lose=None):
    writes = [w(i, i * 0.02) for i in range(int(ok_until / 0.02))]
    writes += [w(1000 + i, ok_until + i * 0.02, ok=False) for i in range(int(down / 0.02))]
    writes += [w(2000 + i, ok_until + down + i * 0.02, db="ha2") for i in range(50)]
    rows = {r["seq"]: r["db"] for r in writes if r["ok"]}
    if lose:
        rows.pop(lose)
    states = [s(0.0, "ha1", "MASTER", "PRIMARY"), s(0.0, "ha2"), s(1.2, "ha2", "MASTER", "PRIMARY"), s(1.2, "ha1", ok=False)]
    records = {"writes": writes, "states": states, "marks": [{"t": 1.0, "event": "inject"}]}
    return records, {"ha1": rows, "ha2": dict(rows)}


def test_analyze_a_clean_failover_passes():
    records, rows = scenario()
    result = drill.analyze(records, rows, thresholds={"rto_seconds": 5, "lost_writes": 0})
    assert result["passed"], result["reasons"]
    assert result["rto_seconds"] == pytest.approx(1.52, abs=0.01)
    assert result["lost_writes"] == [] and not result["split_brain"]
    assert result["primaries_seen"] == ["ha1", "ha2"]
    assert result["vip_holders"][-1][2] == "ha2"


def test_analyze_fails_on_lost_writes_and_slow_recovery():
    records, rows = scenario(down=3.0, lose=5)
    result = drill.analyze(records, rows, thresholds={"rto_seconds": 2, "lost_writes": 0})
    assert not result["passed"]
    assert result["lost_writes"] == [5]
    assert result["reasons"] == ["RTO 3.02s over 2s", "1 acknowledged writes lost"]


def test_markdown_table_has_a_row_per_scenario():
    records, rows = scenario()
    result = drill.analyze(records, rows)
    table = drill.markdown_table([{"name": "keepalived-stop", "fault": "keepalived stopped | holder", "result": result}])
    lines = table.splitlines()
    assert len(lines) == 3
    assert lines[2] == ("| keepalived-stop | keepalived stopped \\| holder | automatic | 1.52 | - | 100 / 175 | 0 | no | 0 "
                        "| not read | pass |")


def test_markdown_table_shows_the_recovery_the_bound_the_double_master_and_the_logs():
    records, rows = scenario()
    result = drill.analyze(records, rows, log_seqs=[r["seq"] for r in records["writes"][:10]] + [0, 1, 1])
    result["double_master"]["web"]["seconds"] = 3.5
    table = drill.markdown_table([{"name": "node_loss", "fault": "node ha1 lost", "result": result,
                                   "judged": {"recovery": "operator", "rto_seconds": 135}}])
    assert table.splitlines()[2] == "| node_loss | node ha1 lost | operator | 1.52 | 135 | 100 / 175 | 0 | no | 3.50 | 90 / 3 | pass |"


def test_log_counts_finds_lines_lost_and_repeated_for_acknowledged_writes_only():
    writes = [w(1, 0.0), w(2, 0.1), w(3, 0.2, ok=False), w(4, 0.3)]
    counts = drill.log_counts(writes, ["1", "2", "2", "2", "3", "3", 99])
    assert counts == {"expected": 3, "lost": [4], "repeated": {2: 2}, "lines_lost": 1, "lines_repeated": 2}
    assert drill.log_counts(writes, [])["lost"] == [1, 2, 4]


def web(t, node, held):
    return dict(s(t, node, "MASTER" if held else "BACKUP"), held={"web": held})


def link_cut_states(fenced_at):
    """ha1 and ha2 both hold the web VIP from 1.0; ha2 drops it at fenced_at."""
    states = []
    for step in range(40):
        t = step * 0.1
        states += [web(t, "ha1", True), web(t, "ha2", 1.0 <= t < fenced_at)]
    return states


def test_double_master_outcome_ends_by_itself_on_one_node():
    states = link_cut_states(fenced_at=2.0)
    spans = drill.double_masters(states, "web")
    outcome = drill.double_master_outcome(spans, drill.holders(states, lambda r: drill.holds_vip(r, "web")), restore=3.0)
    assert outcome == {"seconds": pytest.approx(0.9), "ended_by_itself": True, "ended_on": "ha1"}
    # Still on both when the fault was undone: it did not end by itself.
    late = drill.double_master_outcome(spans, drill.holders(states, lambda r: drill.holds_vip(r, "web")), restore=1.5)
    assert late["ended_by_itself"] is False
    assert drill.double_master_outcome([], [], restore=1.0) == {"seconds": 0.0, "ended_by_itself": True, "ended_on": None}


def test_the_settled_holder_held_the_vip_alone_when_the_window_closed():
    spans = [(0.0, 1.0, "ha1+ha2"), (1.0, 1.2, "ha2"), (1.2, 3.0, None)]
    # ha2 kept the VIP a moment, then nobody had it until the restore.
    assert drill.settled_holder(spans, 1.0, 3.0) is None
    assert drill.settled_holder(spans + [(3.0, 9.0, "ha1")], 1.0, 9.0) == "ha1"
    # The survivor took the VIP for the last moment of the fault only (it restarted its server first).
    assert drill.settled_holder(spans + [(3.0, 3.4, "ha1")], 1.0, 3.4) == "ha1"
    assert drill.settled_holder(spans + [(3.0, 3.4, "ha1+ha2")], 1.0, 3.4) is None
    assert drill.settled_holder(spans, 1.0, None) is None
    assert drill.settled_holder(spans, 1.0, 1.0) is None


def test_double_master_ending_on_no_node_is_not_ended_on_one():
    states = [web(t / 10, "ha1", 10 <= t < 20) for t in range(40)] + [web(t / 10, "ha2", t < 20) for t in range(40)]
    spans = drill.double_masters(states, "web")
    outcome = drill.double_master_outcome(spans, drill.holders(states, lambda r: drill.holds_vip(r, "web")), restore=3.5)
    assert outcome["ended_on"] is None and outcome["ended_by_itself"] is False


def link_cut(fenced_at, restore=3.0):
    writes = [w(i, i * 0.05) for i in range(80)]
    rows = {r["seq"]: r["db"] for r in writes}
    records = {"writes": writes, "states": link_cut_states(fenced_at), "marks": [
        {"t": 0.9, "event": "inject"}, {"t": restore, "event": "restore"}]}
    return records, {"ha1": rows, "ha2": dict(rows)}


def test_an_allowed_double_master_passes_only_when_it_ends_by_itself_within_the_bound_on_the_survivor():
    records, rows = link_cut(fenced_at=2.0)
    allowed = {"rto_seconds": 15, "double_master_seconds": 15, "survivor": "ha1"}
    result = drill.analyze(records, rows, thresholds=allowed)
    assert result["passed"], result["reasons"]
    assert result["split_brain"] is True  # still reported
    assert not drill.analyze(records, rows, thresholds={"rto_seconds": 15})["passed"]
    short = drill.analyze(records, rows, thresholds=dict(allowed, double_master_seconds=0.5))
    assert short["reasons"] == ["web VIP on two nodes for 0.90s, over 0.5s"]
    wrong = drill.analyze(records, rows, thresholds=dict(allowed, survivor="ha2"))
    assert wrong["reasons"] == ["web VIP kept by ha1, not ha2"]
    records, rows = link_cut(fenced_at=3.5)
    endless = drill.analyze(records, rows, thresholds=allowed)
    assert endless["reasons"] == ["web VIP on two nodes did not end on one node before the restore"]


def test_writes_committed_by_two_primaries_always_fail():
    records, rows = link_cut(fenced_at=2.0)
    rows["ha2"][5] = "ha2"
    result = drill.analyze(records, rows, thresholds={"double_master_seconds": 15})
    assert result["reasons"] == ["1 writes committed by two primaries"]


def test_the_db_instance_is_judged_too_and_problems_fail():
    records, rows = link_cut(fenced_at=2.0)
    for state in records["states"]:
        state["held"]["db"] = state["held"]["web"]
    result = drill.analyze(records, rows, instances=["db"], problems=["not healthy again: ha2 is OFFLINE"])
    assert result["reasons"] == ["not healthy again: ha2 is OFFLINE", "web VIP on two nodes for 0.90s",
                                 "db VIP on two nodes for 0.90s"]
    assert result["recovered"] is False


def test_log_lines_lost_fail_only_under_a_threshold():
    records, rows = scenario()
    acked = [r["seq"] for r in records["writes"] if r["ok"]]
    result = drill.analyze(records, rows, log_seqs=acked[1:])
    assert result["passed"] and result["logs"]["lines_lost"] == 1
    judged = drill.analyze(records, rows, thresholds={"log_lines_lost": 0}, log_seqs=acked[1:])
    assert judged["reasons"] == ["1 access-log lines lost"]
    assert drill.analyze(records, rows)["logs"] is None


PROMISES = {
    "witness": {"scenarios": {"node_loss": {"rto_seconds": 15}}},
    "tiebreaker": {
        "scenarios": {"node_loss": {"rto_seconds": 15}, "link_cut": {"rto_seconds": 15, "survivor": "preferred"}},
        "preferred_lost": {"node_loss": {"recovery": "operator", "rto_seconds": 120, "plus_fault": True}},
    },
    "fencing": None,
}


def test_promise_per_topology_and_lost_node():
    base = {"rto_seconds": 30, "lost_writes": 0}
    assert drill.promise(PROMISES, "witness", "node_loss", base=base) == {
        "rto_seconds": 15, "lost_writes": 0, "recovery": "automatic", "topology": "witness"}
    # The witness promises nothing more when the preferred node is lost.
    assert drill.promise(PROMISES, "witness", "node_loss", lost_preferred=True)["rto_seconds"] == 15
    assert drill.promise(PROMISES, "tiebreaker", "node_loss", lost_preferred=True, fault_seconds=6, base=base) == {
        "rto_seconds": 126, "lost_writes": 0, "recovery": "operator", "topology": "tiebreaker"}
    assert drill.promise(PROMISES, "tiebreaker", "link_cut", preferred="ha1", lost_preferred=True)["survivor"] == "ha1"
    assert drill.promise(PROMISES, "fencing", "nginx_kill", base=base) == dict(
        base, recovery="automatic", topology="fencing")
    with pytest.raises(ValueError, match="no promises for topology 'quorum'"):
        drill.promise(PROMISES, "quorum", "node_loss")


def test_timeline_svg_is_well_formed_and_shows_every_write():
    records, rows = scenario()
    result = drill.analyze(records, rows)
    svg = drill.timeline_svg("node-kill", result, records)
    root = ET.fromstring(svg)
    rects = root.findall("{http://www.w3.org/2000/svg}rect")
    writes = [r for r in rects if r.get("width") == "1.5"]
    assert len(writes) == len(records["writes"])
    assert sum(1 for r in writes if r.get("fill") == "#d62728") == result["writes_failed"]
