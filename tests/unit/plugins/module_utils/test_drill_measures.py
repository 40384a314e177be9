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
    assert lines[2].startswith("| keepalived-stop | keepalived stopped \\| holder | 1.52 | 100 / 175 | 0 | no | pass |")


def test_timeline_svg_is_well_formed_and_shows_every_write():
    records, rows = scenario()
    result = drill.analyze(records, rows)
    svg = drill.timeline_svg("node-kill", result, records)
    root = ET.fromstring(svg)
    rects = root.findall("{http://www.w3.org/2000/svg}rect")
    writes = [r for r in rects if r.get("width") == "1.5"]
    assert len(writes) == len(records["writes"])
    assert sum(1 for r in writes if r.get("fill") == "#d62728") == result["writes_failed"]
