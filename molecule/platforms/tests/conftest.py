"""Fixtures shared by the platforms scenario's tests."""

import json
import os
import subprocess
from pathlib import Path

import pytest
import testinfra
import yaml

ROOT = Path(__file__).resolve().parents[3]
INVENTORY = Path(os.environ.get("MOLECULE_SCENARIO_DIRECTORY", Path(__file__).resolve().parents[1])) / "inventory"
SCENARIO = os.environ.get("MOLECULE_SCENARIO_NAME", "platforms")


@pytest.fixture(scope="session")
def suite():
    """This scenario's entry in the platforms list (tests/platforms.yml)."""
    with (ROOT / "tests" / "platforms.yml").open(encoding="utf-8") as handle:
        listed = yaml.safe_load(handle)
    return next(s for s in listed["tested"] if SCENARIO in s["scenarios"])


@pytest.fixture(scope="session")
def pair():
    """The pair as the tests need it: nodes, addresses, the web VIP, and a
    testinfra host per node."""
    out = subprocess.run(["ansible-inventory", "--inventory", str(INVENTORY), "--list"],
                         check=True, capture_output=True, text=True).stdout
    inventory = json.loads(out)
    hostvars = inventory["_meta"]["hostvars"]
    group = next(hv["hapair_pair_group"] for hv in hostvars.values())
    nodes = list(inventory[group]["hosts"])
    return {
        "nodes": nodes,
        "address": {n: hostvars[n]["hapair_node_address"] for n in nodes},
        "web_vip": hostvars[nodes[0]]["hapair_web_vip"],
        "hosts": {n: testinfra.get_host(f"ansible://{n}?ansible_inventory={INVENTORY}") for n in nodes},
    }


@pytest.fixture(scope="session")
def preflight():
    """Run the collection's preflight playbook (hapair.stack.preflight) on
    the scenario's inventory with extra vars (a dict); return (rc, output on
    one line). The collection is the one Molecule runs: the installed
    artifact when make test sets ANSIBLE_COLLECTIONS_PATH (its
    INSTALLED_SCENARIOS), else this checkout."""

    def run(extra_vars):
        env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
        env.setdefault("ANSIBLE_CONFIG", str(ROOT / "ansible.cfg"))
        env.setdefault("ANSIBLE_COLLECTIONS_PATH", str(ROOT / ".collections"))
        proc = subprocess.run(
            ["ansible-playbook", "-i", str(INVENTORY), "hapair.stack.preflight",
             "--extra-vars", json.dumps(extra_vars)],
            cwd=ROOT, env=env, check=False, capture_output=True, text=True, timeout=300)
        return proc.returncode, " ".join((proc.stdout + proc.stderr).split())

    return run
