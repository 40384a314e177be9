"""gr_checksum's procedure on fake members (tests/unit/fixtures/gr_checksum/):
snapshots that meet at one GTID set, the differences found, the row hash's
NULL handling, and what it says when the members never line up."""

import hashlib
import importlib.util
import sqlite3
from pathlib import Path

import pytest

from ansible_collections.hapair.stack.plugins.module_utils.gr_checksum import (
    QUERIES,
    ChecksumError,
    Member,
    MemberError,
    checksum_sql,
    quote_name,
    row_hash_sql,
    run_check,
)

_spec = importlib.util.spec_from_file_location(
    "fake_server", Path(__file__).resolve().parents[2] / "fixtures" / "gr_checksum" / "fake_server.py")
fake = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fake)


def members(servers):
    return {n: Member(n, f"192.0.2.{11 + i}:3306", s) for i, (n, s) in enumerate(servers.items())}


def check(servers, **kwargs):
    kwargs.setdefault("sleep", lambda s: None)
    return run_check(members(servers), **kwargs)


# -- a healthy pair -----------------------------------------------------------

def test_a_healthy_pair_is_consistent_at_one_gtid_set():
    servers = fake.pair()
    result = check(servers)
    assert result["consistent"] is True and result["differences"] == [] and result["reasons"] == []
    assert result["reference"] == "ha1"  # the writable member
    assert result["position"] == fake.upto(42) and result["snapshot_attempts"] == 1
    assert result["gtid_executed"] == {"ha1": fake.upto(42), "ha2": fake.upto(42)}
    assert result["gtid_missing"] == [{"member": "ha2", "peer": "ha1", "missing": ""},
                                      {"member": "ha1", "peer": "ha2", "missing": ""}]
    assert [(t["schema"], t["table"]) for t in result["tables"]] == [
        ("hapair", "canary_writes"), ("hapair_health", "molecule"), ("hapair_health", "sentinel")]
    assert result["tables"][0]["members"]["ha2"] == {"rows": 120, "checksum": "3fae66fc2472cfa8"}
    # Every snapshot was opened after the wait, and closed at the end.
    for server in servers.values():
        assert server.log.index(QUERIES["wait"]) < server.log.index(QUERIES["snapshot"])
        last_read = max(i for i, q in enumerate(server.log) if q.startswith("SELECT COUNT(*)"))
        assert QUERIES["rollback"] in server.log[last_read:] and not server.in_snapshot


def test_schemas_and_max_rows_narrow_the_tables():
    servers = fake.pair()
    servers["ha1"].data["tables"].append({"schema": "hapair", "table": "log", "engine": "MyISAM", "estimate": 3})
    result = check(servers, schemas=["hapair"], max_rows=119)
    assert result["tables"] == []
    assert result["not_compared"] == [
        {"schema": "hapair", "table": "canary_writes", "reason": "about 120 rows, more than max_rows (119)"},
        {"schema": "hapair", "table": "log", "reason": "engine MyISAM: not transactional, no consistent snapshot"},
    ]
    assert result["consistent"] is True


# -- differences --------------------------------------------------------------

def test_a_row_on_one_member_only_is_a_rows_difference_named_by_table_and_members():
    servers = fake.pair()
    servers["ha2"].data["checksums"]["hapair.canary_writes"] = [121, 99]
    result = check(servers)
    assert result["consistent"] is False
    assert result["differences"] == [
        {"schema": "hapair", "table": "canary_writes", "kind": "rows", "members": ["ha1", "ha2"]}]
    assert result["reasons"] == ["hapair.canary_writes: 121 rows on ha2, 120 on ha1 (the reference)"]
    # Seen twice: the table was read again in a second common snapshot.
    assert result["snapshot_attempts"] == 2
    assert sum("`canary_writes`" in q for q in servers["ha2"].log) == 2
    assert sum("`sentinel`" in q for q in servers["ha2"].log) == 1


def test_same_count_other_contents_is_a_checksum_difference():
    servers = fake.pair()
    servers["ha2"].data["checksums"]["hapair_health.sentinel"] = [1, 12345]
    result = check(servers)
    assert [(d["table"], d["kind"]) for d in result["differences"]] == [("sentinel", "checksum")]
    assert "same row count (1) but different contents on ha1 (the reference) and ha2" in result["reasons"][0]


@pytest.mark.parametrize("on", ["ha1", "ha2"])
def test_a_table_on_one_side_only_is_a_missing_table(on):
    servers = fake.pair()
    servers[on].data["tables"] = [t for t in servers[on].data["tables"] if t["table"] != "molecule"]
    result = check(servers)
    assert result["differences"] == [
        {"schema": "hapair_health", "table": "molecule", "kind": "missing_table", "members": ["ha1", "ha2"]}]
    assert result["reasons"] == [f"hapair_health.molecule: the table is missing on {on} (ha1 is the reference)"]
    assert result["tables"][1]["members"][on] is None


def test_a_difference_seen_once_only_is_not_reported():
    servers = fake.pair()
    servers["ha2"].data["checksums"]["hapair.canary_writes"] = [121, 99]
    good = fake.load()["ha2"]["checksums"]["hapair.canary_writes"]

    def heal(server):  # the second snapshot sees what the first caught half-way
        if server.log.count(QUERIES["snapshot"]) == 2:
            server.data["checksums"]["hapair.canary_writes"] = good
    servers["ha2"].on_snapshot = heal
    result = check(servers)
    assert result["consistent"] is True and result["differences"] == []
    assert result["tables"][0]["members"]["ha2"]["rows"] == 120


def test_a_third_member_is_compared_with_the_reference():
    data = fake.load()
    data["w1"] = dict(data["ha2"], checksums=dict(data["ha2"]["checksums"], **{"hapair.canary_writes": [119, 7]}))
    servers = {n: fake.FakeServer(n, d) for n, d in data.items()}
    result = check(servers)
    assert result["differences"] == [
        {"schema": "hapair", "table": "canary_writes", "kind": "rows", "members": ["ha1", "w1"]}]
    assert len(result["gtid_missing"]) == 6


# -- the row hash ---------------------------------------------------------------

def sqlite_with_mysql_functions():
    """sqlite with SHA2 and CONCAT_WS as MySQL has them (SHA2 of a value's
    text, NULL for NULL; CONCAT_WS skips NULLs), to evaluate row_hash_sql."""
    db = sqlite3.connect(":memory:")
    db.create_function("SHA2", 2, lambda v, bits: None if v is None else hashlib.sha256(str(v).encode()).hexdigest())
    db.create_function("CONCAT_WS", -1, lambda sep, *vs: sep.join(str(v) for v in vs if v is not None))
    return db


ROWS = [(1, None, "x"), (1, "", "x"), (1, "x", None), (1, "N", "x"), (1, "x", ""), (1, None, None), (1, "#x", None),
        (1, "#", "x")]


def test_nulls_empty_strings_and_shifted_values_hash_differently():
    db = sqlite_with_mysql_functions()
    db.execute("CREATE TABLE t (a, b, c)")
    db.executemany("INSERT INTO t VALUES (?, ?, ?)", ROWS)
    hashes = [h for (h,) in db.execute(f"SELECT {row_hash_sql(['a', 'b', 'c'])} FROM t")]
    assert None not in hashes
    assert len(set(hashes)) == len(ROWS)
    # What the row hash prevents: CONCAT_WS alone drops NULLs and mixes up neighbours.
    naive = [h for (h,) in db.execute("SELECT SHA2(CONCAT_WS('#', a, b, c), 256) FROM t")]
    assert len(set(naive)) < len(ROWS)


def test_every_column_is_null_guarded_and_names_are_quoted():
    sql = row_hash_sql(["id", "odd`name", "v"])
    assert sql == ("SHA2(CONCAT_WS('#', IFNULL(SHA2(`id`, 256), 'N'), IFNULL(SHA2(`odd``name`, 256), 'N'), "
                   "IFNULL(SHA2(`v`, 256), 'N')), 256)")
    query = checksum_sql("my`db", "t", ["id"])
    assert query.startswith("SELECT COUNT(*) AS row_count, BIT_XOR(CAST(CONV(SUBSTRING(SHA2(")
    assert query.endswith("FROM `my``db`.`t`") and quote_name("a") == "`a`"
    with pytest.raises(ValueError):
        row_hash_sql([])


# -- positions, lag and errant transactions ------------------------------------------

def commit_and_apply(primary, secondary):
    """The primary commits one more transaction, which the secondary applies
    at once: both at the next set."""
    primary.gtid = fake.upto(max(n for _u, n in fake.parse(primary.gtid)) + 1)
    secondary.gtid = primary.gtid


def test_a_member_that_went_past_the_target_is_tried_again():
    servers = fake.pair()
    primary, secondary = servers["ha1"], servers["ha2"]

    def busy_twice(server):  # a write lands while the secondary's snapshot opens, twice
        if server.log.count(QUERIES["snapshot"]) <= 2:
            commit_and_apply(primary, server)
    secondary.on_snapshot = busy_twice
    result = check(servers)
    assert result["snapshot_attempts"] == 3 and result["consistent"] is True
    assert result["position"] == fake.upto(44)
    assert result["gtid_executed"] == {"ha1": fake.upto(44), "ha2": fake.upto(44)}


def test_positions_that_never_line_up_within_the_attempts_fail_and_say_why():
    servers = fake.pair()
    primary, secondary = servers["ha1"], servers["ha2"]
    # A write lands every time the secondary's snapshot opens.
    secondary.on_snapshot = lambda server: commit_and_apply(primary, server)
    slept = []
    with pytest.raises(ChecksumError) as failed:
        check(servers, attempts=4, sleep=slept.append)
    message = str(failed.value)
    assert "never met at one GTID set in 4 attempts" in message
    assert f"ha2 at {fake.upto(46)}" in message and "Run it again, with more attempts" in message
    assert len(slept) == 4
    assert not primary.in_snapshot and not secondary.in_snapshot
    assert not any(q.startswith("SELECT COUNT(*)") for q in primary.log + secondary.log)


def test_a_member_that_cannot_catch_up_is_reported_with_what_it_lacks():
    servers = fake.pair()
    servers["ha2"].gtid = fake.upto(40)
    servers["ha2"].lagging = True
    result = check(servers, wait_timeout=3)
    assert result["consistent"] is False and result["position"] is None and result["tables"] == []
    assert result["reasons"] == [f"ha2 did not apply the transactions of ha1 (the reference) within 3 s; "
                                 f"it is at {fake.upto(40)}, the reference at {fake.upto(42)}"]
    assert {"member": "ha2", "peer": "ha1", "missing": f"{fake.UUID}:41-42"} in result["gtid_missing"]


def test_errant_transactions_on_a_member_are_reported_not_retried():
    servers = fake.pair()
    errant = "e1a8c2b5-e8c6-11f1-bbd0-0242ac1c5b0c:1"
    servers["ha2"].gtid = fake.upto(42) + "," + errant
    result = check(servers)
    assert result["consistent"] is False and result["snapshot_attempts"] is None
    assert result["reasons"] == [f"ha2 holds transactions ha1 (the reference) never executed: {errant} "
                                 "(errant transactions)"]
    assert {"member": "ha1", "peer": "ha2", "missing": errant} in result["gtid_missing"]


def test_the_reference_can_be_named_and_must_be_a_member():
    result = check(fake.pair(), reference="ha2")
    assert result["reference"] == "ha2" and result["consistent"]
    with pytest.raises(ChecksumError, match="reference w9 is not one of the members"):
        check(fake.pair(), reference="w9")


def test_without_a_writable_member_the_one_holding_every_transaction_is_the_reference():
    servers = fake.pair()
    servers["ha1"].data["server"]["super_read_only"] = 1
    servers["ha1"].gtid = fake.upto(40)
    servers["ha1"].lagging = True
    result = check(servers)
    assert result["reference"] == "ha2"


# -- errors ---------------------------------------------------------------------

def test_a_refused_query_names_the_member_and_its_address():
    servers = fake.pair()
    servers["ha2"].refuse = ("SELECT COUNT(*)", 1142, "SELECT command denied to user 'hapair_checksum'@'172.28.78.11'"
                                                      " for table 'canary_writes'")
    with pytest.raises(MemberError) as failed:
        check(servers)
    assert str(failed.value).startswith("member ha2 (192.0.2.12:3306) denied a read: SELECT command denied")
    assert "needs SELECT on every schema it checks" in str(failed.value)


def test_one_member_is_not_enough():
    with pytest.raises(ChecksumError, match="at least two members"):
        check({"ha1": fake.pair()["ha1"]})
