"""Throw-away inventories for the collection's playbooks.

Their hosts point at a closed port on loopback over SSH: a playbook that
tried to touch one would report it unreachable, which the tests treat as a
failure of the 'nothing is touched' promise.
"""

UNTOUCHABLE = {"ansible_connection": "ssh", "ansible_host": "127.0.0.1", "ansible_port": 1}

# Inputs every pair must set (passwords have no defaults), under the pair
# group's vars; a test's pair_vars win.
PAIR_DEFAULTS = {
    "hapair_node_prefix": 24,
    "hapair_web_vip": "192.0.2.100",
    "hapair_reserved_vips": ["192.0.2.100", "192.0.2.101"],
    "kafka_archive_checksum": "sha512:" + "ab" * 64,
    "flume_archive_checksum": "sha512:" + "cd" * 64,
    "mysql_gr_recovery_password": "t-recovery",
    "mysql_gr_monitor_password": "t-monitor",
    "mysql_gr_checksum_password": "t-checksum",
    "mysql_gr_app_password": "t-app",
}


def pair_inventory(hosts=None, pair_vars=None, group="pair_t", extra_groups=None):
    """A one-pair inventory; hosts maps name -> host vars."""
    if hosts is None:
        hosts = {"n1": {"hapair_node_address": "192.0.2.11"}, "n2": {"hapair_node_address": "192.0.2.12"}}
    children = {
        group: {
            "vars": {"hapair_pair_group": group, **PAIR_DEFAULTS, **(pair_vars or {})},
            "hosts": {name: {**UNTOUCHABLE, **(hv or {})} for name, hv in hosts.items()},
        }
    }
    children.update(extra_groups or {})
    return {"all": {"children": {"hapair": {"children": children}}}}


def witness_inventory(witness_hosts=None, pair_vars=None, witness_vars=None, in_witnesses=True):
    """The one-pair inventory plus a witness group w_t (one host by default)."""
    if witness_hosts is None:
        witness_hosts = {"w1": {"hapair_node_address": "192.0.2.13"}}
    shared = {"hapair_pair_group": "pair_t", "hapair_witness_group": "w_t"}
    inventory = pair_inventory(
        pair_vars={**shared, **(pair_vars or {})},
        extra_groups={
            "w_t": {
                "vars": {**shared, **PAIR_DEFAULTS, **(witness_vars or {})},
                "hosts": {name: {**UNTOUCHABLE, **(hv or {})} for name, hv in witness_hosts.items()},
            }
        },
    )
    if in_witnesses:
        inventory["all"]["children"]["hapair_witnesses"] = {"children": {"w_t": {}}}
    return inventory
