"""The drill's reading of the webhook's notifications (module_utils/drill_alerts.py)."""

import json

import pytest

from ansible_collections.hapair.stack.plugins.module_utils import drill, drill_alerts

INJECT = 1000.0
HEALTHY = 1030.0


def note(received, status, *alerts, source="172.28.77.11"):
    """One line of the lab sink's file: an Alertmanager webhook payload (version 4)."""
    payload = {
        "version": "4", "status": status, "receiver": "webhook", "groupKey": "{}:{alertname=\"x\"}",
        "groupLabels": {}, "commonLabels": {}, "commonAnnotations": {}, "externalURL": "http://ha1:9193",
        "alerts": [{"status": s, "labels": dict(labels, alertname=name), "annotations": {"summary": "..."},
                    "startsAt": "2026-12-03T07:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
                    "generatorURL": "http://ha1:9090/graph", "fingerprint": fp}
                   for name, s, labels, fp in alerts],
    }
    return json.dumps({"received": received, "from": source, "payload": payload})


NGINX = ("HapairNginxDown", "firing", {"node": "ha2", "pair": "pair_lab", "instance": "http://172.28.77.12/"}, "a1")
NGINX_OK = ("HapairNginxDown", "resolved", NGINX[2], "a1")
UNIT = ("HapairServiceDown", "firing", {"node": "ha2", "unit": "nginx", "pair": "pair_lab"}, "b2")
UNIT_OK = ("HapairServiceDown", "resolved", UNIT[2], "b2")


def spans(*lines):
    return drill_alerts.spans(drill_alerts.events("\n".join(lines) + "\n"))


@pytest.mark.parametrize("text, seconds", [("15s", 15), ("1m", 60), ("1m30s", 90), ("2h", 7200), ("0", 0), ("500ms", 0.5)])
def test_prometheus_durations(text, seconds):
    assert drill_alerts.duration_seconds(text) == seconds


@pytest.mark.parametrize("text", ["15", "1 m", "m", "15s3"])
def test_a_bad_duration_is_refused(text):
    with pytest.raises(ValueError):
        drill_alerts.duration_seconds(text)


def test_rule_durations_read_every_alerting_rule_and_skip_recording_rules():
    rules = {"groups": [{"name": "a", "rules": [{"alert": "A", "expr": "x", "for": "30s"},
                                                {"record": "r", "expr": "y"},
                                                {"alert": "B", "expr": "z"}]}]}
    assert drill_alerts.rule_durations(rules) == {"A": 30.0, "B": 0.0}


def test_the_collections_own_rules_all_have_a_for():
    import pathlib
    import yaml
    root = pathlib.Path(drill_alerts.__file__).resolve().parents[2]
    rules = drill_alerts.rule_durations(yaml.safe_load((root / "roles/monitoring/files/hapair.rules.yml").read_text()))
    assert rules["HapairNginxDown"] == 20 and rules["HapairNodeUnreachable"] == 15 and rules["HapairServiceDown"] == 30


def test_an_alert_is_one_span_from_its_first_firing_to_its_first_resolution_across_repeats_and_both_senders():
    found = spans(
        note(1031.0, "firing", NGINX),
        note(1031.4, "firing", NGINX, source="172.28.77.12"),  # the other Alertmanager, cut off
        note(1061.0, "firing", NGINX, UNIT),                     # the group's next notification
        note(1080.0, "resolved", NGINX_OK, UNIT_OK),
        note(1081.0, "resolved", NGINX_OK),
    )
    assert [(s["alert"], s["fired"], s["resolved"]) for s in found] == [
        ("HapairNginxDown", 1031.0, 1080.0), ("HapairServiceDown", 1061.0, 1080.0)]


def test_the_scenario_reports_each_alert_seconds_after_the_fault_and_its_resolution_after_the_recovery():
    found = drill_alerts.scenario(
        spans(note(1031.0, "firing", NGINX), note(1061.0, "firing", NGINX, UNIT), note(1070.0, "resolved", NGINX_OK, UNIT_OK)),
        INJECT, healthy=HEALTHY, expected=["HapairNginxDown"], deadlines={"HapairNginxDown": 60}, waited_until=1100.0)
    assert found["reasons"] == []
    assert found["missing"] == []
    first = found["fired"][0]
    assert (first["alert"], first["where"], first["fired_after"], first["resolved_after"], first["expected"], first["deadline"]) == (
        "HapairNginxDown", "ha2", 31.0, 40.0, True, 60)
    assert found["fired"][1]["where"] == "ha2 nginx" and not found["fired"][1]["expected"]


def test_an_expected_alert_that_never_came_or_came_late_fails_the_scenario():
    late = drill_alerts.scenario(spans(note(1075.0, "firing", NGINX), note(1090.0, "resolved", NGINX_OK)),
                                 INJECT, healthy=HEALTHY, expected=["HapairNginxDown"], deadlines={"HapairNginxDown": 60},
                                 waited_until=1100.0)
    assert late["reasons"] == ["HapairNginxDown reached the webhook 75.0 s after the fault, over its 60 s"]
    never = drill_alerts.scenario(spans(note(1031.0, "firing", UNIT), note(1040.0, "resolved", UNIT_OK)),
                                  INJECT, healthy=HEALTHY, expected=["HapairNginxDown"], deadlines={"HapairNginxDown": 60},
                                  waited_until=1100.0)
    assert never["missing"] == ["HapairNginxDown"]
    assert never["reasons"] == ["HapairNginxDown never reached the webhook (due within 60 s)"]


def test_an_alert_not_resolved_by_the_end_of_the_wait_fails_the_scenario():
    found = drill_alerts.scenario(spans(note(1031.0, "firing", NGINX), note(1300.0, "resolved", NGINX_OK)),
                                  INJECT, healthy=HEALTHY, waited_until=1210.0, resolve_wait=180)
    assert found["fired"][0]["resolved"] is False and found["fired"][0]["resolved_after"] is None
    assert found["reasons"] == ["HapairNginxDown (ha2) not resolved 180 s after the recovery"]


def test_alerts_of_before_the_fault_are_not_the_scenarios_and_old_ones_are_not_listed():
    text = [note(100.0, "firing", UNIT),           # before the drill began, never resolved in the file
            note(950.0, "firing", NGINX)]          # an earlier scenario's, still firing
    found = drill_alerts.scenario(spans(*text), INJECT, healthy=HEALTHY, waited_until=1100.0, started=900.0)
    assert found["fired"] == []
    assert found["firing_before"] == [{"alert": "HapairNginxDown", "where": "ha2"}]
    assert [s["alert"] for s in drill_alerts.unresolved(spans(*text), 900.0)] == ["HapairNginxDown"]


def test_a_file_that_is_not_the_webhooks_is_refused_and_blank_lines_are_skipped():
    assert drill_alerts.events("\n\n") == []
    with pytest.raises(ValueError, match="line 2"):
        drill_alerts.events(note(1.0, "firing", NGINX) + "\nnot json\n")


def test_an_alert_without_a_fingerprint_is_known_by_its_labels():
    line = json.dumps({"received": 5.0, "payload": {"alerts": [{"status": "firing", "labels": {"alertname": "A", "node": "ha1"}}]}})
    again = json.dumps({"received": 9.0, "payload": {"alerts": [{"status": "resolved", "labels": {"node": "ha1", "alertname": "A"}}]}})
    assert [(s["fired"], s["resolved"]) for s in spans(line, again)] == [(5.0, 9.0)]


def test_the_report_shows_the_alerts_column_and_table_only_when_checked():
    records = {"writes": [{"seq": 1, "sent": 999.0, "answered": 999.1, "ok": True, "node": "ha1", "db": "ha1"}],
               "states": [], "marks": []}
    alerts = drill_alerts.scenario(spans(note(1031.0, "firing", NGINX), note(1070.0, "resolved", NGINX_OK)),
                                   INJECT, healthy=HEALTHY, expected=["HapairNginxDown"], deadlines={"HapairNginxDown": 60},
                                   waited_until=1100.0)
    checked = drill.analyze(records, {"ha1": {1: "ha1"}}, alerts=alerts)
    plain = drill.analyze(records, {"ha1": {1: "ha1"}})
    assert plain["alerts"] == {"checked": False}
    table = drill.markdown_table([{"name": "nginx_stop", "fault": "f", "result": checked}])
    assert "Alerts at the webhook" in table.splitlines()[0]
    assert "| HapairNginxDown ha2 31.0 s, resolved +40.0 s | pass |" in table
    assert "Alerts" not in drill.markdown_table([{"name": "nginx_stop", "fault": "f", "result": plain}])
    rows = drill_alerts.markdown([{"name": "nginx_stop", "result": checked}, {"name": "canary_kill", "result": plain}])
    assert rows.splitlines()[2] == "| nginx_stop | HapairNginxDown | ha2 | 60 | 31.0 | 40.0 |"
    assert "canary_kill" not in rows


def test_a_late_alert_fails_the_analysed_scenario():
    records = {"writes": [{"seq": 1, "sent": 999.0, "answered": 999.1, "ok": True, "node": "ha1", "db": "ha1"}],
               "states": [], "marks": []}
    alerts = drill_alerts.scenario(spans(), INJECT, healthy=HEALTHY, expected=["HapairNodeUnreachable"],
                                   deadlines={"HapairNodeUnreachable": 55}, waited_until=1100.0)
    result = drill.analyze(records, {"ha1": {1: "ha1"}}, alerts=alerts)
    assert not result["passed"]
    assert result["reasons"] == ["HapairNodeUnreachable never reached the webhook (due within 55 s)"]


def test_where_names_the_node_and_unit_and_falls_back_to_the_instance():
    assert drill_alerts.place({"node": "ha1", "unit": "kafka", "instance": "x"}) == "ha1 kafka"
    assert drill_alerts.place({"instance": "172.28.77.100:80"}) == "172.28.77.100:80"
    assert drill_alerts.place({}) == ""


def test_an_alert_resolved_before_the_pair_was_healthy_says_so():
    found = drill_alerts.scenario(spans(note(1005.0, "firing", NGINX), note(1020.0, "resolved", NGINX_OK)),
                                  INJECT, healthy=HEALTHY, waited_until=1100.0)
    assert found["fired"][0]["resolved_after"] == -10.0 and found["reasons"] == []
    assert drill_alerts.cell(found) == "HapairNginxDown ha2 5.0 s, resolved before the recovery"
    assert drill_alerts.markdown([{"name": "s", "result": {"alerts": found}}]).splitlines()[2].endswith(
        "| 5.0 | before the recovery |")


def test_a_resolution_a_few_milliseconds_before_the_recovery_is_at_it_not_minus_zero():
    found = drill_alerts.scenario(spans(note(1005.0, "firing", NGINX), note(HEALTHY - 0.04, "resolved", NGINX_OK)),
                                  INJECT, healthy=HEALTHY, waited_until=1100.0)
    assert str(found["fired"][0]["resolved_after"]) == "0.0"
    assert drill_alerts.cell(found) == "HapairNginxDown ha2 5.0 s, resolved +0.0 s"


def test_where_tells_a_groups_members_apart():
    assert drill_alerts.place({"node": "ha2", "member": "172.28.77.12", "instance": "172.28.77.12:9100"}) == \
        "ha2 172.28.77.12"
    assert drill_alerts.place({"node": "ha2", "instance": "172.28.77.12:9100"}) == "ha2"
