"""Traffic through the pair, as a client sees it (Molecule verify, testinfra).

Requests go from the controller to the web VIP (urllib); faults are made on
the nodes through testinfra's Ansible backend. Each fault test restores the
pair before it ends. Deadlines are generous (seconds): the measured figures
belong in the notes (tools/vip_probe.py), not in asserts.

Runs against the scenario's inventory; HAPAIR_INVENTORY points it at another
one (the lab: inventories/lab).
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import testinfra
import yaml

DEADLINE = 15.0


def _inventory() -> Path:
    if os.environ.get("HAPAIR_INVENTORY"):
        return Path(os.environ["HAPAIR_INVENTORY"])
    if os.environ.get("MOLECULE_SCENARIO_DIRECTORY"):
        return Path(os.environ["MOLECULE_SCENARIO_DIRECTORY"]) / "inventory"
    return Path(__file__).resolve().parents[1] / "inventory"


def _pair():
    """(web VIP, [host names]) of the first pair group in the inventory."""
    def walk(group):
        if "hapair_web_vip" in (group.get("vars") or {}):
            return group["vars"]["hapair_web_vip"], sorted(group.get("hosts") or {})
        for child in (group.get("children") or {}).values():
            found = walk(child or {})
            if found:
                return found
        return None

    data = yaml.safe_load((_inventory() / "hosts.yml").read_text())
    return walk(data["all"])


VIP, NODES = _pair()
URL = f"http://{VIP}/"


@pytest.fixture(scope="module")
def nodes():
    inventory = str(_inventory())
    return {name: testinfra.get_host(f"ansible://{name}", ansible_inventory=inventory) for name in NODES}


def get(url=URL, timeout=2.0):
    """(status, X-Served-By, answering node) or (None, None, None)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, resp.headers.get("X-Served-By"), json.loads(resp.read()).get("node")
    except (OSError, urllib.error.URLError, ValueError):
        return None, None, None


def holders(nodes):
    """Nodes that hold the VIP now, from the kernel."""
    found = []
    for name, node in nodes.items():
        links = json.loads(node.check_output("ip -j addr show"))
        if any(info.get("local") == VIP for link in links for info in link.get("addr_info", [])):
            found.append(name)
    return found


def state(node, instance="web"):
    return json.loads(node.check_output(f"cat /var/lib/hapair/vrrp/{instance}.state")).get("state")


def wait_for(what, check, deadline=DEADLINE):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    pytest.fail(f"{what} not within {deadline} s")


def single_holder(nodes):
    found = holders(nodes)
    return found[0] if len(found) == 1 else None


@pytest.fixture
def holder(nodes):
    """The node holding the VIP, once the pair is whole; the pair is whole again after the test."""
    name = wait_for("exactly one node holding the VIP", lambda: single_holder(nodes))
    yield name
    for node_name, node in nodes.items():
        node.run("systemctl reset-failed nginx keepalived")
        node.run("systemctl start nginx")
        node.run("systemctl start keepalived")
    wait_for("every node back in MASTER or BACKUP",
             lambda: all(state(n) in ("MASTER", "BACKUP") for n in nodes.values()))
    wait_for("exactly one node holding the VIP after the restore", lambda: single_holder(nodes))


def other(name):
    return next(n for n in NODES if n != name)


def test_both_nodes_answer_through_the_vip():
    answers = [get() for _unused in range(40)]
    assert all(status == 200 for status, _unused, _unused in answers), answers
    assert {node for _unused, _unused, node in answers} == set(NODES)


def test_one_notify_reader_records_the_state_changes(nodes):
    # keepalived writes every change to one FIFO, read by one reader running
    # as the script user; the state files it writes agree with the kernel.
    for name, node in nodes.items():
        readers = node.check_output("pgrep -u keepalived_script -f -c keepalived-notify || true").strip()
        assert readers == "1", f"{name}: {readers} notify readers"
    assert [n for n in nodes if state(nodes[n]) == "MASTER"] == holders(nodes)


def test_stopping_keepalived_on_the_holder_moves_the_vip(nodes, holder):
    nodes[holder].check_output("systemctl stop keepalived")
    wait_for(f"the VIP on {other(holder)}", lambda: holders(nodes) == [other(holder)])
    assert wait_for("an answer through the VIP", lambda: get()[0] == 200)
    assert get()[1] == other(holder)


def test_killing_nginx_on_the_holder_moves_the_vip(nodes, holder):
    nodes[holder].check_output("systemctl kill -s KILL nginx")
    wait_for(f"the VIP on {other(holder)}", lambda: holders(nodes) == [other(holder)])
    assert state(nodes[holder]) == "FAULT"
    assert wait_for("an answer through the VIP", lambda: get()[0] == 200)


def test_a_reload_keeps_keepalived_and_the_vip(nodes, holder):
    """What the role's handler does on a config change: reload, same PID, VIP stays."""
    node = nodes[holder]
    pid = node.check_output("systemctl show -p MainPID --value keepalived")
    node.check_output("systemctl reload keepalived")
    time.sleep(1)
    assert node.check_output("systemctl show -p MainPID --value keepalived") == pid
    assert holders(nodes) == [holder]
    assert get()[0] == 200
