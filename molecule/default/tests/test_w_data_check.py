"""The data check (hapair.stack.gr_checksum) on the pair, run the way an
operator would (ansible -m, in check mode) and through the health gate:

- on the healthy pair every member's tables match at one GTID set;
- a row written on ONE member only (binary logging off, so no GTID shows
  it) is reported with its table and the members, and fails the health
  gate with a message that names them;
- a NULL changed to '' on one member only is a checksum difference (same
  row count).

Each planted change is undone the same way in a finally block, and the test
table is dropped on the primary at the end (which drops it everywhere), so
the pair is whole for test_y_survive and test_zz_recover. Runs after
test_traffic, before test_y_survive (file order)."""

import importlib.util
import json
import os
import subprocess
from pathlib import Path

import pytest
import testinfra

_spec = importlib.util.spec_from_file_location(
    "gr_drill", Path(__file__).resolve().parents[2] / "shared" / "gr_drill.py")
gr = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gr)

SCHEMA, TABLE = "hapair_health", "data_check"
NAME = f"{SCHEMA}.{TABLE}"
INVENTORY = os.path.join(os.environ.get("MOLECULE_SCENARIO_DIRECTORY", "."), "inventory")
DEADLINE = 30


@pytest.fixture(scope="module")
def roles(lab, inventory):
    """The primary and the secondary (names), and the node the check runs on."""
    primary = gr.pair_primary(lab, lab["pair"][0])
    secondary = next(n for n in lab["pair"] if n != primary)
    return {
        "primary": primary,
        "secondary": secondary,
        "runner": testinfra.get_host(f"ansible://{primary}?ansible_inventory={INVENTORY}"),
        "hostvars": inventory["_meta"]["hostvars"][primary],
    }


@pytest.fixture(scope="module")
def table(lab, roles):
    """A small table of the health gate's schema (the data check's account
    reads it), written on the primary and replicated: one row with a value,
    one with NULL. Dropped on the primary at the end."""
    primary = lab["containers"][roles["primary"]]
    gr.node_sql(primary, f"CREATE TABLE IF NOT EXISTS {NAME} (id INT PRIMARY KEY, v VARCHAR(64) NULL)")
    gr.node_sql(primary, f"REPLACE INTO {NAME} VALUES (1, 'one'), (2, NULL)")
    for node in lab["pair"]:
        gr.wait_for(f"{node} holding both rows of {NAME}",
                    lambda node=node: gr.node_sql(lab["containers"][node], f"SELECT COUNT(*) FROM {NAME}") == [["2"]],
                    DEADLINE)
    yield NAME
    gr.node_sql(primary, f"DROP TABLE IF EXISTS {NAME}")


def data_check(lab, roles):
    """gr_checksum's result, run on the primary's node against every pair
    member over TCP, in check mode (it only reads)."""
    hv = roles["hostvars"]
    args = {
        "members": [{"name": n, "login_host": lab["address"][n]} for n in lab["pair"]],
        "login_user": hv.get("mysql_gr_checksum_user", "hapair_checksum"),
        "login_password": hv["mysql_gr_checksum_password"],
    }
    return roles["runner"].ansible("hapair.stack.gr_checksum", json.dumps(args), check=True)


def on_secondary_only(lab, roles, statement):
    """STATEMENT on the secondary alone, as root: binary logging off for the
    session (no GTID, nothing replicated), super_read_only lifted for that
    moment and put back whatever happens."""
    container = lab["containers"][roles["secondary"]]
    try:
        gr.node_sql(container, f"SET SESSION sql_log_bin = 0; SET GLOBAL super_read_only = OFF; {statement}")
    finally:
        gr.node_sql(container, "SET GLOBAL super_read_only = ON")


def row_of(result, name):
    schema, table = name.split(".")
    return next(t for t in result["tables"] if (t["schema"], t["table"]) == (schema, table))


def test_the_healthy_pair_holds_the_same_data_at_one_gtid_set(lab, roles, table):
    result = data_check(lab, roles)
    assert result["consistent"] is True, result["reasons"]
    assert result["changed"] is False
    assert result["reference"] == roles["primary"]
    assert sorted(result["gtid_executed"]) == sorted(lab["pair"])
    assert set(result["gtid_executed"].values()) == {result["position"]}
    assert all(m["missing"] == "" for m in result["gtid_missing"]), result["gtid_missing"]
    compared = {f"{t['schema']}.{t['table']}" for t in result["tables"]}
    assert {table, "hapair.canary_writes", "hapair_health.sentinel"} <= compared, compared
    assert {m: v["rows"] for m, v in row_of(result, table)["members"].items()} == {n: 2 for n in lab["pair"]}


def test_a_row_on_one_member_only_is_reported_and_fails_the_health_gate(lab, roles, table):
    primary, secondary = roles["primary"], roles["secondary"]
    try:
        on_secondary_only(lab, roles, f"INSERT INTO {table} VALUES (3, 'planted')")
        result = data_check(lab, roles)
        assert result["consistent"] is False
        assert result["differences"] == [
            {"schema": SCHEMA, "table": TABLE, "kind": "rows", "members": [primary, secondary]}], result["differences"]
        assert result["reasons"] == [f"{table}: 3 rows on {secondary}, 2 on {primary} (the reference)"]
        # No GTID tells: the sets still agree.
        assert all(m["missing"] == "" for m in result["gtid_missing"]), result["gtid_missing"]

        # The health gate fails the run, naming the table and both members.
        env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0",
                   # One line per message, nothing wrapped or re-quoted.
                   ANSIBLE_CALLBACK_RESULT_FORMAT="json")
        env.setdefault("ANSIBLE_COLLECTIONS_PATH", str(gr.REPO / ".collections"))
        run = subprocess.run(
            ["ansible-playbook", "-i", INVENTORY, str(gr.REPO / "playbooks" / "health.yml")],
            capture_output=True, text=True, timeout=600, env=env, check=False)
        # ansible-core 2.19 prints a task's failure on stderr and the recap on stdout.
        out = run.stdout + run.stderr
        assert run.returncode != 0, out[-3000:]
        assert "data differs" in out, out[-3000:]
        assert f"{table}: 3 rows on {secondary}, 2 on {primary} (the reference)" in out, out[-3000:]
    finally:
        on_secondary_only(lab, roles, f"DELETE FROM {table} WHERE id = 3")
    assert data_check(lab, roles)["consistent"] is True


def test_a_null_changed_on_one_member_only_is_a_checksum_difference(lab, roles, table):
    primary, secondary = roles["primary"], roles["secondary"]
    try:
        on_secondary_only(lab, roles, f"UPDATE {table} SET v = '' WHERE id = 2")
        result = data_check(lab, roles)
        assert result["differences"] == [
            {"schema": SCHEMA, "table": TABLE, "kind": "checksum", "members": [primary, secondary]}], result["differences"]
        members = row_of(result, table)["members"]
        assert members[primary]["rows"] == members[secondary]["rows"] == 2
        assert members[primary]["checksum"] != members[secondary]["checksum"]
    finally:
        on_secondary_only(lab, roles, f"UPDATE {table} SET v = NULL WHERE id = 2")
    assert data_check(lab, roles)["consistent"] is True


def test_the_pair_is_left_as_found(lab, roles):
    """super_read_only back on the secondary, both members ONLINE, one primary."""
    assert gr.node_sql(lab["containers"][roles["secondary"]], "SELECT @@GLOBAL.super_read_only") == [["1"]]
    assert gr.pair_online(lab, roles["primary"]) == sorted(lab["pair"])
    assert gr.pair_primary(lab, roles["secondary"]) == roles["primary"]
