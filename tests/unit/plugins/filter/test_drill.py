"""Unit tests of the drill's filter plugin (plugins/filter/drill.py)."""

import json
import xml.etree.ElementTree as ET

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.hapair.stack.plugins.filter import drill as f


def w(seq, sent, ok=True, db="ha1"):
    return {"type": "write", "seq": seq, "sent": sent, "answered": sent + 0.01, "ok": ok, "db": db, "node": "ha1"}


def st(t, node, vrrp, role="SECONDARY"):
    return {"type": "state", "t": t, "node": node, "ok": True, "vrrp": {"web": vrrp}, "gr_role": role}


def text(records):
    return "\n".join(json.dumps(r) for r in records)


def query(rows):
    """A registered community.mysql.mysql_query result for one SELECT."""
    return {"changed": False, "query_result": [rows], "rowcount": [len(rows)]}


def test_filters_are_exported():
    assert set(f.FilterModule().filters()) == {
        "drill_analyze", "drill_rows", "drill_records_text", "drill_seq_range", "drill_markdown", "drill_timeline_svg",
        "drill_log_counts", "drill_promise", "drill_alert_rules", "drill_alert_deadlines", "drill_alerts",
        "drill_alerts_unresolved", "drill_alerts_markdown"}


def test_rows_from_a_dict_of_members_skips_failed_and_unreachable():
    rows = f.drill_rows({
        "ha1": query([{"seq": 10, "db": "ha1"}, {"seq": 11, "db": "ha2"}]),
        "ha2": {"failed": True, "msg": "Can't connect"},
        "w1": {"unreachable": True, "msg": "container gone"},
        "ha3": {"skipped": True},
        # failed_when: false keeps a failed query from failing: no rows known.
        "ha4": {"failed": False, "msg": "Can't connect"},
    })
    assert rows == {"ha1": {10: "ha1", 11: "ha2"}}


def test_rows_from_a_loop_result():
    rows = f.drill_rows({"results": [
        dict(query([{"seq": "5", "db": "ha1"}]), item="ha1"),
        dict(query([]), item={"name": "ha2"}),
    ]})
    assert rows == {"ha1": {5: "ha1"}, "ha2": {}}


def test_rows_rejects_other_input():
    with pytest.raises(AnsibleFilterError):
        f.drill_rows(["ha1"])


def test_seq_range():
    assert f.drill_seq_range(text([w(7, 1.0), w(9, 1.2), w(8, 1.1)])) == {"first": 7, "last": 9}
    assert f.drill_seq_range("") == {"first": None, "last": None}


def test_analyze_counts_a_lost_acknowledged_write_and_fails():
    records = [w(1, 0.0), w(2, 0.1), w(3, 0.2, ok=False), w(4, 1.5)]
    rows = {"ha1": {1: "ha1", 2: "ha1", 4: "ha1"}, "ha2": {1: "ha1", 4: "ha1"}}
    result = f.drill_analyze(text(records), rows, thresholds={"rto_seconds": 5, "lost_writes": 0})
    assert result["lost_writes"] == [2]
    assert result["lost_by_member"] == {"ha1": [], "ha2": [2]}
    assert result["passed"] is False
    assert "1 acknowledged writes lost" in result["reasons"]
    assert result["rto_seconds"] == pytest.approx(1.4, abs=0.001)


def test_analyze_reports_two_vip_holders_as_split_brain_in_lists():
    records = [w(1, 0.0), w(2, 1.0)] + [st(0.1, "ha1", "MASTER"), st(0.1, "ha2", "MASTER"),
                                        st(0.3, "ha1", "MASTER"), st(0.3, "ha2", "MASTER")]
    rows = {"ha1": {1: "ha1", 2: "ha1"}}
    result = f.drill_analyze(text(records), rows, thresholds={})
    assert result["split_brain"] is True
    # Spans come back as lists (Ansible's templating keeps them).
    assert all(isinstance(span, list) for span in result["double_masters"] + result["vip_holders"])
    assert result["double_masters"][0][2] == ["ha1", "ha2"]


def test_analyze_passes_a_clean_scenario_with_marks():
    records = [w(i, i * 0.02) for i in range(100)] + [{"type": "mark", "t": 0.5, "event": "inject"}]
    rows = {m: {i: "ha1" for i in range(100)} for m in ("ha1", "ha2", "w1")}
    result = f.drill_analyze(text(records), rows, thresholds={"rto_seconds": 1, "lost_writes": 0})
    assert result["passed"] is True and result["reasons"] == []
    assert result["marks"][0]["event"] == "inject"


def test_analyze_names_a_bad_record():
    with pytest.raises(AnsibleFilterError, match="probe record 1"):
        f.drill_analyze("garbage", {})


def test_markdown_and_svg():
    records = [w(1, 0.0), w(2, 0.5, ok=False), w(3, 1.0)]
    result = f.drill_analyze(text(records), {"ha1": {1: "ha1", 3: "ha1"}}, thresholds={"rto_seconds": 5})
    table = f.drill_markdown([{"name": "nginx_kill", "fault": "Nginx killed on ha1", "result": result}])
    assert table.splitlines()[2] == "| nginx_kill | Nginx killed on ha1 | automatic | 1.00 | - | 2 / 3 | 0 | no | 0 | not read | pass |"
    svg = f.drill_timeline_svg(text(records), "nginx_kill", result)
    assert ET.fromstring(svg).tag.endswith("svg")
    with pytest.raises(AnsibleFilterError):
        f.drill_markdown([{"name": "x"}])


def test_records_text_appends_the_marks_as_lines():
    out = f.drill_records_text(text([w(1, 0.0)]) + "\n", [{"t": 0.5, "event": "inject"}])
    lines = out.splitlines()
    assert len(lines) == 2 and out.endswith("\n")
    assert json.loads(lines[1]) == {"type": "mark", "t": 0.5, "event": "inject"}
    assert f.drill_records_text("", []) == ""


def test_analyze_takes_marks_apart_from_the_probe_text():
    result = f.drill_analyze(text([w(1, 0.0), w(2, 0.1)]), {"ha1": {1: "ha1", 2: "ha1"}},
                             marks=[{"t": 0.05, "event": "inject"}, {"t": 0.08, "event": "restore"}])
    assert [m["event"] for m in result["marks"]] == ["inject", "restore"]


def test_log_counts_from_the_probe_text():
    counts = f.drill_log_counts(text([w(1, 0.0), w(2, 0.1), w(3, 0.2, ok=False)]), ["2", "2", "3"])
    assert counts["lost"] == [1] and counts["repeated"] == {2: 1}
    assert f.drill_log_counts(text([w(1, 0.0)]), None)["lines_lost"] == 1


def test_analyze_counts_the_log_lines_it_is_given():
    result = f.drill_analyze(text([w(1, 0.0), w(2, 0.1)]), {"ha1": {1: "ha1", 2: "ha1"}}, log_seqs=[1, 1, 2])
    assert result["logs"]["lines_repeated"] == 1 and result["logs"]["lines_lost"] == 0
    assert f.drill_analyze(text([w(1, 0.0)]), {"ha1": {1: "ha1"}})["logs"] is None


def test_promise_filter_takes_playbook_values_and_names_a_bad_topology():
    promises = {"tiebreaker": {"scenarios": {"node_loss": {"rto_seconds": 15}},
                               "preferred_lost": {"node_loss": {"recovery": "operator", "rto_seconds": 60,
                                                                "plus_fault": True}}}}
    judged = f.drill_promise(promises, "tiebreaker", "node_loss", preferred="ha1", lost_preferred="True",
                             fault_seconds="6", base={"lost_writes": 0})
    assert judged == {"lost_writes": 0, "recovery": "operator", "rto_seconds": 66, "topology": "tiebreaker"}
    assert f.drill_promise(promises, "tiebreaker", "node_loss")["recovery"] == "automatic"
    with pytest.raises(AnsibleFilterError, match="drill_promise: no promises for topology 'witness'"):
        f.drill_promise(promises, "witness", "node_loss")


def test_alert_deadlines_are_the_rules_for_plus_the_allowance_and_an_unknown_alert_is_refused():
    rules = f.drill_alert_rules({"groups": [{"rules": [{"alert": "HapairNginxDown", "for": "20s"}]}]})
    assert f.drill_alert_deadlines(["HapairNginxDown"], rules, 40) == {"HapairNginxDown": 60.0}
    with pytest.raises(AnsibleFilterError, match="HapairNginxDwn"):
        f.drill_alert_deadlines(["HapairNginxDwn"], rules, 40)


def test_the_alerts_filter_reads_the_sinks_text():
    line = json.dumps({"received": 1031.0, "payload": {"alerts": [
        {"status": "firing", "labels": {"alertname": "HapairNginxDown", "node": "ha2"}, "fingerprint": "x"}]}})
    found = f.drill_alerts(line + "\n", "1000.0", healthy=1030, expected=["HapairNginxDown"],
                           deadlines={"HapairNginxDown": "60"}, waited_until=1040, resolve_wait=10)
    assert found["fired"][0]["fired_after"] == 31.0
    assert found["reasons"] == ["HapairNginxDown (ha2) not resolved 10 s after the recovery"]
    assert f.drill_alerts_unresolved(line, 1000) == [{"alert": "HapairNginxDown", "where": "ha2"}]
    with pytest.raises(AnsibleFilterError, match="not JSON"):
        f.drill_alerts_unresolved("{", 0)
