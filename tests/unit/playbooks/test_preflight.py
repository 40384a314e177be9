"""playbooks/preflight.yml rejects a bad inventory before any host is
touched, with a message that names the host and the variable to fix."""

import pytest
from ansible_collections.hapair.stack.tests.unit.playbooks.inventories import pair_inventory, witness_inventory

GOOD = {"n1": {"hapair_node_address": "192.0.2.11"}, "n2": {"hapair_node_address": "192.0.2.12"}}


def test_a_good_inventory_passes_without_touching_a_host(run_playbook):
    rc, out = run_playbook("preflight.yml", pair_inventory())
    assert rc == 0, out
    assert "failed=0" in out


def test_a_good_inventory_with_a_witness_passes(run_playbook):
    rc, out = run_playbook("preflight.yml", witness_inventory())
    assert rc == 0, out
    assert "w1 : ok=" in out


@pytest.mark.parametrize(
    "inventory, message",
    [
        (
            witness_inventory(in_witnesses=False),
            "whose host w1 is not under the group hapair_witnesses; make w_t a child of hapair_witnesses too",
        ),
        (
            witness_inventory(witness_hosts={"w1": {"hapair_node_address": "192.0.2.13"},
                                             "w2": {"hapair_node_address": "192.0.2.14"}}),
            "it holds: w1, w2",
        ),
        (
            witness_inventory(pair_vars={"hapair_witness_group": "w_missing"}),
            "n1 belongs to pair pair_t, but its hapair_pair_group is 'pair_t' and its hapair_witness_group 'w_missing'",
        ),
        (
            witness_inventory(witness_hosts={"w1": {"hapair_node_address": "192.0.2.12"}}),
            "n2, w1: hapair_node_address is 192.0.2.12 on each; every host of the inventory needs its own address",
        ),
    ],
    ids=["witness-not-marked", "two-witnesses", "witness-group-disagrees", "witness-address-taken"],
)
def test_a_bad_witness_is_rejected(run_playbook, inventory, message):
    rc, out = run_playbook("preflight.yml", inventory)
    assert rc != 0
    assert message in out, out


@pytest.mark.parametrize(
    "inventory, message",
    [
        (
            pair_inventory(hosts={**GOOD, "n3": {"hapair_node_address": "192.0.2.13"}}),
            "hapair_pair_group is 'pair_t', which holds 3 hosts (n1, n2, n3), not 2",
        ),
        (
            pair_inventory(hosts={"n1": GOOD["n1"]}),
            "holds 1 hosts (n1), not 2",
        ),
        (
            pair_inventory(pair_vars={"hapair_pair_group": "pair_missing"}),
            "hapair_pair_group is 'pair_missing', which is not a group of this inventory",
        ),
        (
            pair_inventory(hosts={"n1": {"hapair_node_address": "192.0.2.300"}, "n2": GOOD["n2"]}),
            "n1: hapair_node_address is '192.0.2.300'; set an IP address",
        ),
        (
            pair_inventory(hosts={"n1": {}, "n2": GOOD["n2"]}),
            "missing required arguments: hapair_node_address",
        ),
        (
            pair_inventory(hosts={"n1": GOOD["n1"], "n2": GOOD["n1"]}),
            "n1, n2: hapair_node_address is 192.0.2.11 on each",
        ),
        (
            pair_inventory(pair_vars={"hapair_reserved_vips": ["192.0.2.100", "192.0.2.12"]}),
            "hapair_reserved_vips holds '192.0.2.12', which is a node address",
        ),
        (
            pair_inventory(pair_vars={"hapair_reserved_vips": ["192.0.2.100", "web"]}),
            "hapair_reserved_vips is a list; set an IP address (for example 192.0.2.11) as each item ('web' is not)",
        ),
    ],
    ids=["three-nodes", "one-node", "missing-group", "bad-address", "no-address", "same-address",
         "vip-is-node", "vip-not-ip"],
)
def test_a_bad_pair_is_rejected(run_playbook, inventory, message):
    rc, out = run_playbook("preflight.yml", inventory)
    assert rc != 0
    assert message in out, out


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"net.core.somaxconn": [1, 2]}, "sysctl_settings is a mapping; set settings with plain values (the value of net.core.somaxconn is a list)"),
        ({"net.core.somaxconn": {"a": 1}}, "sysctl_settings is a mapping; set settings with plain values (the value of net.core.somaxconn is a mapping)"),
        ({"somaxconn": 1}, "sysctl_settings: sysctl key 'somaxconn' is not a sysctl key name"),
    ],
    ids=["list", "dict", "bad-name"],
)
def test_bad_sysctl_input_is_rejected_before_any_host_is_touched(run_playbook, settings, message):
    rc, out = run_playbook("preflight.yml", pair_inventory(pair_vars={"sysctl_settings": settings}))
    assert rc != 0
    assert message in out, out


def test_a_wrong_type_is_rejected_by_the_argument_spec(run_playbook):
    rc, out = run_playbook("preflight.yml", pair_inventory(pair_vars={"sysctl_settings": "net.core.somaxconn=1"}))
    assert rc != 0
    assert "sysctl_settings" in out and "dict" in out, out
