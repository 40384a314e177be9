"""Fixtures shared by the scenario's tests."""

import json
import os
import subprocess

import pytest


@pytest.fixture(scope="session")
def inventory():
    """The scenario's inventory as `ansible-inventory --list` prints it."""
    source = os.path.join(os.environ["MOLECULE_SCENARIO_DIRECTORY"], "inventory")
    out = subprocess.run(
        ["ansible-inventory", "--inventory", source, "--list"], check=True, capture_output=True, text=True
    ).stdout
    return json.loads(out)


@pytest.fixture(scope="module")
def lab(inventory):
    """The pair as the tests need it: nodes, containers, addresses, VIPs, the
    canary's /state URLs, the preferred node."""
    hostvars = inventory["_meta"]["hostvars"]
    pair_name = next(hv["hapair_pair_group"] for hv in hostvars.values())
    pair = list(inventory[pair_name]["hosts"])
    return {
        "pair": pair,
        "preferred": hostvars[pair[0]].get("hapair_preferred_node") or pair[0],
        "containers": {n: hostvars[n]["ansible_host"] for n in pair},
        "address": {n: hostvars[n]["hapair_node_address"] for n in pair},
        "web_vip": hostvars[pair[0]]["hapair_web_vip"],
        "db_vip": hostvars[pair[0]]["hapair_db_vip"],
        "state_urls": {n: f"http://{hostvars[n]['hapair_node_address']}:{hostvars[n].get('canary_port', 8080)}/state"
                       for n in pair},
    }
