"""The preflight's keepalived checks, against throw-away inventories.

One ansible-playbook run covers every case: each case is a pair group of its
own in one inventory (the collection supports many pairs per inventory), the
preflight runs on the controller only (connection local, no facts, nothing
on any host), and the JSON callback tells which host failed with what.
"""

import json
import subprocess

import pytest
import yaml
from ansible_collections.hapair.stack.tests.unit.playbook_runs import ANSIBLE_PLAYBOOK, ansible_env

# case: (pair vars, {host suffix: host vars}, expected message part or None)
CASES = {
    "good": ({}, {}, None),
    "good_v2_auth": ({"keepalived_vrrp_version": 2, "keepalived_advert_int": 1, "keepalived_auth_pass": "s3cret"}, {}, None),
    "same_priority": ({}, {"a": {"keepalived_priority": 100}, "b": {"keepalived_priority": 100}},
                      "have the same priority 100"),
    "vrid_differs": ({}, {"b": {"keepalived_web_virtual_router_id": 52}}, "virtual_router_id differs between the nodes"),
    "auth_differs": ({"keepalived_vrrp_version": 2, "keepalived_advert_int": 1},
                     {"a": {"keepalived_auth_pass": "one"}, "b": {"keepalived_auth_pass": "two"}},
                     "auth_pass (keepalived_auth_pass) differs between the nodes"),
    "vrid_reused": ({"keepalived_extra_instances": [{"name": "db", "virtual_router_id": 51, "vips": ["SUBNET.101"]}]}, {},
                    "virtual_router_id 51 is used by more than one instance (web, db)"),
    "vrid_range": ({"keepalived_web_virtual_router_id": 300}, {}, "keepalived_web_virtual_router_id is 300; set a VRRP router id from 1 to 255"),
    "vip_outside": ({"hapair_web_vip": "10.99.0.100"}, {}, "hapair_web_vip is 10.99.0.100, outside the nodes' subnet SUBNET.0/24"),
    "vip_is_node": ({"hapair_web_vip": "SUBNET.11"}, {}, "hapair_web_vip is SUBNET.11, which is not in hapair_reserved_vips"),
    "peers_asymmetric": ({}, {"a": {"keepalived_unicast_peers": ["SUBNET.13"]}}, "unicast peers must be symmetric"),
    "v3_with_auth": ({"keepalived_auth_pass": "s3cret"}, {}, "VRRP version 3 has no authentication"),
    "v2_subsecond": ({"keepalived_vrrp_version": 2, "keepalived_advert_int": 0.1}, {}, "sub-second, which needs VRRP version 3"),
    "nice_range": ({"keepalived_vrrp_nice": -30}, {}, "keepalived_vrrp_nice is -30; set a nice value from -20 to 19"),
    "unknown_track": ({"keepalived_extra_instances": [{"name": "db", "virtual_router_id": 52, "vips": ["SUBNET.101"],
                                                       "track_scripts": ["nope"]}]}, {},
                      "track_scripts names 'nope', which is not in keepalived_scripts"),
}


def inventory():
    pairs = {}
    for number, (case, (pair_vars, host_vars, _unused)) in enumerate(CASES.items(), start=1):
        subnet = f"10.{number}.0"
        group = f"pair_{case}"
        rendered = json.loads(json.dumps(pair_vars).replace("SUBNET", subnet))
        hosts = {}
        for suffix, last in (("a", 11), ("b", 12)):
            host = {"hapair_node_address": f"{subnet}.{last}"}
            host.update(json.loads(json.dumps(host_vars.get(suffix, {})).replace("SUBNET", subnet)))
            hosts[f"{case}_{suffix}"] = host
        pairs[group] = {
            "vars": {
                "hapair_pair_group": group,
                "hapair_node_prefix": 24,
                "hapair_web_vip": f"{subnet}.100",
                "hapair_reserved_vips": [f"{subnet}.100", f"{subnet}.101"],
                "keepalived_web_virtual_router_id": 51,
                **rendered,
            },
            "hosts": hosts,
        }
    return {"all": {"vars": {"ansible_connection": "local"}, "children": {"hapair": {"children": pairs}}}}


PLAYBOOK = """\
- name: Preflight of the keepalived inputs only
  hosts: hapair
  gather_facts: false
  vars:
    preflight_roles: [keepalived]
    # Each case is a pair of its own; the rules across pairs have their own tests.
    preflight_check_inventory: false
  roles:
    - role: hapair.stack.preflight
"""


@pytest.fixture(scope="module")
def preflight(tmp_path_factory, shared_run):
    return shared_run("preflight_keepalived", lambda: run_preflight(tmp_path_factory.mktemp("preflight")))


def run_preflight(work):
    (work / "hosts.yml").write_text(yaml.safe_dump(inventory()))
    (work / "play.yml").write_text(PLAYBOOK)
    # Only this copy as hapair.stack (an installed one elsewhere may be older).
    env = ansible_env(
        work,
        ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json",
        ANSIBLE_CALLBACK_RESULT_FORMAT="json",
        ANSIBLE_FORKS="20",
    )
    proc = subprocess.run(
        [ANSIBLE_PLAYBOOK, "-i", str(work / "hosts.yml"), str(work / "play.yml"),
         # No facts here: the preflight's read of each host's OS release is off.
         "--extra-vars", '{"preflight_check_platform": false}'],
        cwd=work, env=env, capture_output=True, text=True, timeout=300, check=False,
    )
    assert proc.stdout.strip(), proc.stderr
    result = json.loads(proc.stdout)
    failures = {}
    for play in result["plays"]:
        for task in play["tasks"]:
            for host, outcome in task["hosts"].items():
                if outcome.get("failed"):
                    failures.setdefault(host, []).append(str(outcome.get("msg", "")))
                for item in outcome.get("results", []) or []:
                    if item.get("failed"):
                        failures.setdefault(host, []).append(str(item.get("msg", "")))
    return proc.returncode, failures, result["stats"]


def test_a_bad_inventory_fails_the_run(preflight):
    rc, _unused, _unused = preflight
    assert rc != 0


@pytest.mark.parametrize("case", [c for c, v in CASES.items() if v[2] is None])
def test_good_pairs_pass(preflight, case):
    _unused, failures, stats = preflight
    for host in (f"{case}_a", f"{case}_b"):
        assert host not in failures, failures.get(host)
        assert stats[host]["failures"] == 0


@pytest.mark.parametrize("case", [c for c, v in CASES.items() if v[2] is not None])
def test_each_bad_input_fails_with_a_message_naming_it(preflight, case):
    _unused, failures, _unused = preflight
    expected = CASES[case][2].replace("SUBNET", f"10.{list(CASES).index(case) + 1}.0")
    messages = failures.get(f"{case}_a", []) + failures.get(f"{case}_b", [])
    assert messages, f"{case}: the preflight passed"
    assert any(expected in m for m in messages), messages
    # The message names a host of the pair or the pair group.
    assert any(f"{case}_" in m or f"pair_{case}" in m for m in messages), messages
