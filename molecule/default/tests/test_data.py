"""What a user sees of the data step: one group of every member with one
PRIMARY, a row written on the primary read on the other member, the
canary's writes through the web VIP (committed through the database VIP,
read back on every pair node, a duplicate refused), and a planned
switchover that moves the primary and the database VIP (undone afterwards)."""

import json
import subprocess
import time
import urllib.error
import urllib.request
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


@pytest.fixture
def pair(host, inventory):
    """The pair's nodes (no witness): name -> hostvars, and the VIPs."""
    me = host.ansible.get_variables()["inventory_hostname"]
    hostvars = inventory["_meta"]["hostvars"]
    names = list(inventory[hostvars[me]["hapair_pair_group"]]["hosts"])
    return {n: hostvars[n] for n in names}


def http(method, url, timeout=5):
    """(status, JSON body) of a request; HTTP errors are answers too."""
    request = urllib.request.Request(url, data=b"" if method == "POST" else None, method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310 (the lab's own addresses)
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def canary_url(hv, path):
    return f"http://{hv['hapair_node_address']}:{hv.get('canary_port', 8080)}{path}"


def vip_holders(pair, vip):
    """Names of the pair's nodes that hold the address VIP now."""
    return [n for n, hv in pair.items()
            if f" {vip}/" in subprocess.run(["docker", "exec", hv["ansible_host"], "ip", "-o", "-4", "addr", "show"],
                                            check=True, capture_output=True, text=True, timeout=30).stdout]


def wait_for(what, check, deadline=DEADLINE):
    end = time.monotonic() + deadline
    while not check():
        assert time.monotonic() < end, f"{what} within {deadline} s"
        time.sleep(0.2)


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


def test_a_planned_switchover_moves_the_primary_and_back(group, pair):
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
        # The database VIP follows, and the canary's writes land on the new primary.
        hv = next(iter(pair.values()))
        new_name = [n for n, v in pair.items() if v["hapair_node_address"] == new_address]
        wait_for(f"the database VIP on {new_name}", lambda: vip_holders(pair, hv["hapair_db_vip"]) == new_name)
        wait_for("a canary write committed on the new primary",
                 lambda: http("POST", f"http://{hv['hapair_web_vip']}/write?seq={time.time_ns() // 1000}")[1].get("db")
                 == new_name[0])
    finally:
        node_sql(group[new_address], f"SELECT group_replication_set_as_primary('{old[3]}')")
    end = time.monotonic() + DEADLINE
    while primary_of(group)[0] != old[0]:
        assert time.monotonic() < end, f"the primary did not move back to {old[0]}"
        time.sleep(0.2)
    # Left as found: the database VIP back on the old primary's node.
    old_name = [n for n, v in pair.items() if v["hapair_node_address"] == old[0]]
    wait_for(f"the database VIP back on {old_name}",
             lambda: vip_holders(pair, next(iter(pair.values()))["hapair_db_vip"]) == old_name)


def test_a_canary_write_through_the_web_vip_is_read_on_every_pair_node(group, pair):
    hv = next(iter(pair.values()))
    primary = primary_of(group)[0]
    wait_for("the database VIP on the primary's node", lambda: vip_holders(pair, hv["hapair_db_vip"])
             == [n for n, v in pair.items() if v["hapair_node_address"] == primary])
    seq = time.time_ns() // 1000
    status, body = http("POST", f"http://{hv['hapair_web_vip']}/write?seq={seq}")
    assert status == 200, body
    primary_name = next(n for n, v in pair.items() if v["hapair_node_address"] == primary)
    assert body["seq"] == seq and body["node"] in pair and body["db"] == primary_name, body
    for name, node in pair.items():
        wait_for(f"{name} reads seq {seq}",
                 lambda node=node: http("GET", canary_url(node, f"/read?seq={seq}"))[1].get("present") is True)


def test_a_duplicate_seq_is_refused(pair):
    hv = next(iter(pair.values()))
    seq = time.time_ns() // 1000
    assert http("POST", f"http://{hv['hapair_web_vip']}/write?seq={seq}")[0] == 200
    status, body = http("POST", f"http://{hv['hapair_web_vip']}/write?seq={seq}")
    assert status == 409 and body["seq"] == seq, body


def test_a_bad_seq_is_refused(pair):
    hv = next(iter(pair.values()))
    assert http("POST", f"http://{hv['hapair_web_vip']}/write?seq=-1")[0] == 400


def test_each_canary_states_its_vrrp_and_group_role(group, pair):
    primary = primary_of(group)[0]
    web_holders = []
    for name, hv in pair.items():
        status, body = http("GET", canary_url(hv, "/state"))
        assert status == 200 and body["node"] == name, body
        assert body["gr_state"] == "ONLINE", body
        assert body["gr_role"] == ("PRIMARY" if hv["hapair_node_address"] == primary else "SECONDARY"), body
        assert set(body["vrrp"]) >= {"web", "db"}, body
        # What the node's kernel holds, beside what keepalived recorded.
        assert body["held"]["db"] == (hv["hapair_node_address"] == primary), body
        assert body["held"]["web"] == (body["vrrp"]["web"] == "MASTER"), body
        web_holders += [name] if body["held"]["web"] else []
    assert len(web_holders) == 1, web_holders


def test_the_database_vip_is_on_the_primarys_node_alone(group, pair):
    hv = next(iter(pair.values()))
    primary = primary_of(group)[0]
    expected = [n for n, v in pair.items() if v["hapair_node_address"] == primary]
    wait_for(f"the database VIP on {expected}", lambda: vip_holders(pair, hv["hapair_db_vip"]) == expected)


def test_keepalived_gone_on_the_primarys_node_brings_the_primary_to_the_database_vip(group, pair):
    """keepalived stopped on the primary's node puts the database VIP on the
    other node, a SECONDARY; its follow script moves the primary there (the
    old primary still answers), so writes through the web VIP work again
    before keepalived returns. Left with keepalived running everywhere and
    the database VIP on the primary's node (the primary stays where it went)."""
    hv = next(iter(pair.values()))
    old = primary_of(group)[0]
    old_name = next(n for n, v in pair.items() if v["hapair_node_address"] == old)
    other = next(n for n in pair if n != old_name)
    subprocess.run(["docker", "exec", pair[old_name]["ansible_host"], "systemctl", "stop", "keepalived"],
                   check=True, timeout=60)
    try:
        wait_for(f"the database VIP on {other}", lambda: vip_holders(pair, hv["hapair_db_vip"]) == [other])
        wait_for(f"the primary on {other}", lambda: primary_of(group)[0] == pair[other]["hapair_node_address"])
        wait_for(f"a canary write committed on {other}",
                 lambda: http("POST", f"http://{hv['hapair_web_vip']}/write?seq={time.time_ns() // 1000}")[1].get("db")
                 == other)
    finally:
        subprocess.run(["docker", "exec", pair[old_name]["ansible_host"], "systemctl", "start", "keepalived"],
                       check=True, timeout=60)
    # The returning node is a SECONDARY now: it does not take the VIP back.
    time.sleep(3)
    assert vip_holders(pair, hv["hapair_db_vip"]) == [other]
    assert primary_of(group)[0] == pair[other]["hapair_node_address"]
