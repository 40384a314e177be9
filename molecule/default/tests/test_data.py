"""What a user sees of the data step: one group of every member with one
PRIMARY, a row written on the primary read on the other member, and a
planned switchover that moves the primary (undone afterwards)."""

import subprocess
import time
import uuid

import pytest

DEADLINE = 30


def node_sql(container, query):
    """Rows of QUERY run as root on a node's mysqld (through docker exec)."""
    out = subprocess.run(
        ["docker", "exec", container, "mysql", "--batch", "--skip-column-names", "-e", query],
        check=True, capture_output=True, text=True, timeout=60,
    ).stdout
    return [line.split("\t") for line in out.splitlines() if line]


def members(container):
    return node_sql(container, "SELECT MEMBER_HOST, MEMBER_STATE, MEMBER_ROLE, MEMBER_ID "
                               "FROM performance_schema.replication_group_members ORDER BY MEMBER_HOST")


@pytest.fixture
def group(host, inventory):
    """address -> container of every member of this host's group."""
    me = host.ansible.get_variables()["inventory_hostname"]
    hostvars = inventory["_meta"]["hostvars"]
    names = list(inventory[hostvars[me]["hapair_pair_group"]]["hosts"])
    witness = hostvars[me].get("hapair_witness_group")
    if witness:
        names += inventory[witness]["hosts"]
    return {hostvars[n]["hapair_node_address"]: hostvars[n]["ansible_host"] for n in names}


def primary_of(group):
    rows = members(next(iter(group.values())))
    return next(r for r in rows if r[2] == "PRIMARY" and r[1] == "ONLINE")


def test_mysql_runs_and_starts_at_boot(host):
    service = host.service("mysql")
    assert service.is_running and service.is_enabled


def test_group_has_every_member_online_and_one_primary(host, group):
    rows = members(host.ansible.get_variables()["ansible_host"])
    assert sorted(r[0] for r in rows if r[1] == "ONLINE") == sorted(group), rows
    assert [r[2] for r in rows].count("PRIMARY") == 1, rows


def test_only_the_primary_is_writable(host):
    container = host.ansible.get_variables()["ansible_host"]
    role, sro = node_sql(container, "SELECT MEMBER_ROLE, @@super_read_only FROM "
                                    "performance_schema.replication_group_members WHERE MEMBER_ID = @@server_uuid")[0]
    assert sro == ("0" if role == "PRIMARY" else "1")


def test_a_row_written_on_the_primary_is_read_on_every_other_member(group):
    primary = primary_of(group)[0]
    token = uuid.uuid4().hex
    node_sql(group[primary], "CREATE TABLE IF NOT EXISTS hapair_health.molecule (token CHAR(32) PRIMARY KEY)")
    node_sql(group[primary], f"INSERT INTO hapair_health.molecule VALUES ('{token}')")
    for address, container in group.items():
        if address == primary:
            continue
        end = time.monotonic() + DEADLINE
        while not node_sql(container, f"SELECT token FROM hapair_health.molecule WHERE token = '{token}'"):
            assert time.monotonic() < end, f"{address} did not read the row within {DEADLINE} s"
            time.sleep(0.2)


def test_a_planned_switchover_moves_the_primary_and_back(group):
    old = primary_of(group)
    candidates = [a for a in group if a != old[0]
                  and node_sql(group[a], "SELECT @@group_replication_member_weight")[0][0] != "0"]
    assert candidates, "no other member may become primary"
    new_address = candidates[0]
    new_id = node_sql(group[new_address], "SELECT @@server_uuid")[0][0]
    try:
        node_sql(group[old[0]], f"SELECT group_replication_set_as_primary('{new_id}')")
        end = time.monotonic() + DEADLINE
        while primary_of(group)[0] != new_address:
            assert time.monotonic() < end, f"the primary did not move to {new_address}"
            time.sleep(0.2)
        assert node_sql(group[new_address], "SELECT @@super_read_only")[0][0] == "0"
        assert node_sql(group[old[0]], "SELECT @@super_read_only")[0][0] == "1"
    finally:
        node_sql(group[new_address], f"SELECT group_replication_set_as_primary('{old[3]}')")
    end = time.monotonic() + DEADLINE
    while primary_of(group)[0] != old[0]:
        assert time.monotonic() < end, f"the primary did not move back to {old[0]}"
        time.sleep(0.2)
