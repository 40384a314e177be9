"""Unit tests of the VIP parsing and checks, on output recorded from the lab nodes.

Fixtures (tests/unit/fixtures/vip/): `ip -j addr show` of ha1 (BACKUP, no
VIP) and ha2 (MASTER, holding 172.28.77.100), the state files the notify
script wrote on each, and the manifest the keepalived role wrote.
"""

import json
from pathlib import Path

import pytest

from ansible_collections.hapair.stack.plugins.module_utils.vip import (
    UNKNOWN,
    VipError,
    is_settled,
    master_down_interval,
    pair_problems,
    parse_ip_addr,
    parse_pid,
    parse_state,
    vip_address,
    vip_status,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "vip"
VIP = "172.28.77.100"


def fixture(name):
    return (FIXTURES / name).read_text()


def manifest_instances():
    return json.loads(fixture("manifest.json"))["instances"]


def test_ip_addr_of_the_holder_lists_the_vip_on_eth0():
    addresses = parse_ip_addr(fixture("ip-addr-ha2.json"))
    assert addresses[VIP] == {"interface": "eth0", "prefix": 24, "family": "inet"}
    assert addresses["172.28.77.12"]["interface"] == "eth0"
    assert addresses["127.0.0.1"]["interface"] == "lo"


def test_ip_addr_of_the_backup_has_no_vip():
    addresses = parse_ip_addr(fixture("ip-addr-ha1.json"))
    assert VIP not in addresses
    assert "172.28.77.11" in addresses


@pytest.mark.parametrize("text", ["not json", '{"a": 1}'])
def test_unreadable_ip_output_is_an_error_that_says_what(text):
    with pytest.raises(VipError, match="ip -j addr"):
        parse_ip_addr(text)


def test_empty_ip_output_is_no_address():
    assert parse_ip_addr("") == {}


def test_state_file_written_by_the_notify_script():
    state = parse_state(fixture("web-ha2.state"))
    assert state["state"] == "MASTER"
    assert state["previous"] == "BACKUP"
    assert state["priority"] == 100
    assert state["since"] == pytest.approx(1795607375.917153884)
    assert state["since_iso"].endswith("Z")


@pytest.mark.parametrize("text", [None, "", "garbage", "[]", '{"state": "WHATEVER"}'])
def test_unreadable_state_file_is_unknown(text):
    assert parse_state(text)["state"] == UNKNOWN


@pytest.mark.parametrize(("text", "pid"), [("5807\n", 5807), ("", None), ("x", None), ("0", None), (None, None)])
def test_pid_file(text, pid):
    assert parse_pid(text) == pid


@pytest.mark.parametrize("vip", [VIP, VIP + "/24", {"address": VIP, "prefix": 24}, {"cidr": VIP + "/24"}])
def test_vip_forms(vip):
    assert vip_address(vip) == VIP


def test_master_down_interval_follows_rfc_5798():
    assert master_down_interval(1, 100) == pytest.approx(3 + 156 / 256)
    assert master_down_interval(0.1, 150) == pytest.approx(0.3 + 0.1 * 106 / 256)


def status_of(host, running=True, now=1795607700.0):
    return vip_status(
        manifest_instances(),
        parse_ip_addr(fixture(f"ip-addr-{host}.json")),
        {"web": parse_state(fixture(f"web-{host}.state"))},
        running,
        now,
    )


def test_holder_is_master_and_holds_the_vip():
    status = status_of("ha2")
    assert status["held"] == [VIP]
    assert status["master"] == ["web"]
    (instance,) = status["instances"]
    assert instance["state"] == "MASTER"
    assert instance["holds_vips"] and instance["settled"]
    assert instance["age"] == pytest.approx(1795607700.0 - 1795607375.917153884, abs=0.01)
    assert status["vips"] == [{"address": VIP, "instance": "web", "held": True, "interface": "eth0", "prefix": 24}]
    assert is_settled(status)


def test_backup_holds_nothing_and_has_settled_after_the_master_down_interval():
    status = status_of("ha1")
    assert status["held"] == [] and status["master"] == []
    (instance,) = status["instances"]
    assert instance["state"] == "BACKUP" and not instance["holds_vips"] and instance["settled"]


def test_a_fresh_backup_has_not_settled():
    since = parse_state(fixture("web-ha1.state"))["since"]
    status = status_of("ha1", now=since + 0.2)
    assert not status["instances"][0]["settled"]
    assert not is_settled(status)


def test_stopped_keepalived_reports_stop_and_keeps_the_recorded_state():
    status = status_of("ha2", running=False)
    instance = status["instances"][0]
    assert instance["state"] == "STOP" and instance["recorded_state"] == "MASTER"
    assert not status["keepalived_running"] and not is_settled(status)


def test_missing_state_file_is_unknown():
    status = vip_status(manifest_instances(), {}, {}, True, 0.0)
    assert status["instances"][0]["state"] == UNKNOWN
    assert status["vips"][0]["held"] is False


def test_a_healthy_pair_has_no_problems():
    assert pair_problems({"ha1": status_of("ha1"), "ha2": status_of("ha2")}) == []


def test_a_vip_held_by_nobody_is_named():
    problems = pair_problems({"ha1": status_of("ha1"), "ha2": status_of("ha1")})
    assert problems == [f"VIP {VIP} (instance web) is held by no node of ha1, ha2"]


def test_a_vip_held_by_both_is_split_brain():
    problems = pair_problems({"ha1": status_of("ha2"), "ha2": status_of("ha2")})
    assert any("held by 2 nodes at once (ha1, ha2): split brain" in p for p in problems)


def test_a_holder_that_is_not_master_is_named():
    backup_holding = status_of("ha2")
    backup_holding["instances"][0]["state"] = "BACKUP"
    problems = pair_problems({"ha1": status_of("ha1"), "ha2": backup_holding})
    assert problems == [f"ha2 holds VIP {VIP} but its instance web is BACKUP, not MASTER"]


def test_fault_and_stopped_keepalived_are_named():
    fault = status_of("ha1")
    fault["instances"][0]["state"] = "FAULT"
    problems = pair_problems({"ha1": fault, "ha2": status_of("ha2", running=False)})
    assert "ha1: VRRP instance web is in FAULT" in problems[0]
    assert any(p.startswith("ha2: keepalived is not running") for p in problems)
    assert any("is STOP, not MASTER" in p for p in problems)
