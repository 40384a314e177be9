"""The mysql_gr role's pair-wide inputs are checked by playbooks/preflight.yml
before any host is touched: unique server ids, seeds naming exactly the
group's members, a UUID group name, passwords set and never logged, a
witness with weight 0."""

import pytest
from ansible_collections.hapair.stack.tests.unit.playbooks.inventories import pair_inventory

# Only this role's checks (the other roles' have their own tests).
ONLY_MYSQL = ("--extra-vars", '{"preflight_roles": ["mysql_gr"]}')

GOOD = {"n1": {"hapair_node_address": "192.0.2.11"}, "n2": {"hapair_node_address": "192.0.2.12"}}


def with_witness(witness_vars=None, pair_vars=None):
    common = {"hapair_pair_group": "pair_t", "hapair_witness_group": "witness_t"}
    witness = {
        "witness_t": {
            "vars": {**common},
            "hosts": {"w1": {"ansible_connection": "ssh", "ansible_host": "127.0.0.1", "ansible_port": 1,
                             "hapair_node_address": "192.0.2.13", **(witness_vars or {})}},
        }
    }
    inventory = pair_inventory(pair_vars={**common, **(pair_vars or {})}, extra_groups=witness)
    # A witness's group is also a child of hapair_witnesses (the preflight's rule).
    inventory["all"]["children"]["hapair_witnesses"] = {"children": {"witness_t": {}}}
    return inventory


def test_a_good_pair_passes(run_playbook):
    rc, out = run_playbook("preflight.yml", pair_inventory(), *ONLY_MYSQL)
    assert rc == 0, out


def test_a_good_pair_with_a_witness_passes_its_checks(run_playbook):
    # The preflight's pair checks run on the pair's nodes; the witness is
    # checked by the mysql_gr rules of each member.
    rc, out = run_playbook("preflight.yml", with_witness(), "--limit", "pair_t", *ONLY_MYSQL)
    assert rc == 0, out


@pytest.mark.parametrize(
    "inventory, message",
    [
        (
            pair_inventory(hosts={"n1": {**GOOD["n1"], "mysql_gr_server_id": 7},
                                  "n2": {**GOOD["n2"], "mysql_gr_server_id": 7}}),
            "mysql_gr_server_id must be a number from 1 to 4294967295, unique in the group; the members have n1=7, n2=7",
        ),
        (
            pair_inventory(pair_vars={"mysql_gr_group_seeds": ["192.0.2.11:3306", "192.0.2.99:3306"]}),
            "mysql_gr_group_seeds is 192.0.2.11:3306, 192.0.2.99:3306; it must name each member of pair_t once",
        ),
        (
            pair_inventory(pair_vars={"mysql_gr_group_seeds": ["192.0.2.11:3306"]}),
            "mysql_gr_group_seeds is 192.0.2.11:3306; it must name each member",
        ),
        (
            pair_inventory(pair_vars={"mysql_gr_group_name": "shop"}),
            "mysql_gr_group_name is 'shop'; set a UUID",
        ),
        (
            pair_inventory(hosts={"n1": {**GOOD["n1"], "mysql_gr_group_name": "0a4bd628-8a4e-50f0-99ab-2c0568c2b901"},
                                  "n2": GOOD["n2"]}),
            "but the members of pair_t disagree",
        ),
        (
            pair_inventory(pair_vars={"mysql_gr_app_password": ""}),
            "mysql_gr_app_password is empty; set a password (keep it in Ansible Vault)",
        ),
        (
            with_witness(witness_vars={"mysql_gr_member_weight": 50}),
            "w1: mysql_gr_member_weight is 50; a witness must have 0, so it is never elected primary",
        ),
        (
            # The default server_id of n2 (its address as a number), given to the witness.
            with_witness(witness_vars={"mysql_gr_server_id": 3221225996}),
            "mysql_gr_server_id must be a number from 1 to 4294967295, unique in the group",
        ),
    ],
    ids=["same-server-id", "seed-not-a-member", "seed-missing", "name-not-uuid", "names-differ",
         "no-password", "witness-weight", "witness-same-server-id"],
)
def test_bad_group_input_is_rejected(run_playbook, inventory, message):
    rc, out = run_playbook("preflight.yml", inventory, "--limit", "pair_t", *ONLY_MYSQL)
    assert rc != 0
    assert message in out, out


def test_a_password_is_never_printed(run_playbook):
    rc, out = run_playbook(
        "preflight.yml", pair_inventory(pair_vars={"mysql_gr_monitor_password": "s3cr3t-do-not-print"}), *ONLY_MYSQL
    )
    assert rc == 0, out
    rc, out = run_playbook(
        "preflight.yml",
        pair_inventory(pair_vars={"mysql_gr_monitor_password": "s3cr3t-do-not-print", "mysql_gr_app_password": ""}),
        "-v",
        *ONLY_MYSQL,
    )
    assert rc != 0
    assert "s3cr3t-do-not-print" not in out
