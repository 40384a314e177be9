# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Data verification across MySQL members: the queries gr_checksum runs, the
procedure that takes every member's table checksums at one GTID set, and
pure functions that compare the results (unit-tested with fake members,
tests/unit/plugins/module_utils/test_gr_checksum.py).

Every GTID set comparison is made by MySQL (GTID_SUBSET, GTID_SUBTRACT,
WAIT_FOR_EXECUTED_GTID_SET); nothing here parses a GTID set.

The method (also stated in the module's documentation):

1. Read every member's @@GLOBAL.gtid_executed and compare each pair on one
   server (GTID_SUBSET and GTID_SUBTRACT both ways).
2. Choose the reference: the member named, else the one writable member
   (the primary), else the one holding every other member's transactions.
3. An attempt: on the reference, read its set G, open a consistent snapshot
   (REPEATABLE READ, START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY)
   and read the set again: the snapshot is at G when the set did not move
   (GTID_SUBSET(@@GLOBAL.gtid_executed, G)). Then on every other member:
   WAIT_FOR_EXECUTED_GTID_SET(G, wait_timeout), open a snapshot the same
   way, and check that it is at G too. A member whose snapshot went past G
   (it applied a later transaction meanwhile) ends the attempt: every
   snapshot is rolled back and the next attempt starts from a newer G.
4. Once every snapshot is at the same G, each member checksums its tables
   inside its own snapshot: COUNT(*) and a 64-bit BIT_XOR of a per-row SHA-256
   (see row_hash_sql), one SELECT per table.
5. Tables whose results differ are checked again in a new attempt (a new G);
   only differences seen twice are reported.
"""

from __future__ import annotations

import time

# Schemas never checked: the server's own, and MySQL Shell's InnoDB Cluster
# metadata (which differs between members by design where present).
SYSTEM_SCHEMAS = ("mysql", "sys", "performance_schema", "information_schema", "mysql_innodb_cluster_metadata")

_NOT_SYSTEM = "TABLE_SCHEMA NOT IN ({})".format(", ".join("'%s'" % s for s in SYSTEM_SCHEMAS))

QUERIES = {
    "server": (
        "SELECT @@GLOBAL.gtid_executed AS gtid_executed, @@GLOBAL.super_read_only AS super_read_only, "
        "@@GLOBAL.read_only AS read_only, @@server_uuid AS server_uuid"
    ),
    "gtid": "SELECT @@GLOBAL.gtid_executed AS gtid_executed",
    "compare": (
        "SELECT GTID_SUBSET(%s, %s) AS a_in_b, GTID_SUBSET(%s, %s) AS b_in_a, "
        "GTID_SUBTRACT(%s, %s) AS only_a, GTID_SUBTRACT(%s, %s) AS only_b"
    ),
    # A consistent snapshot needs REPEATABLE READ (under READ COMMITTED each
    # SELECT would read anew); long scans must not be cut by a global
    # max_execution_time.
    "isolation": "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ",
    "no_time_limit": "SET SESSION max_execution_time = 0",
    "wait": "SELECT WAIT_FOR_EXECUTED_GTID_SET(%s, %s) AS timed_out",
    "lacking": "SELECT GTID_SUBTRACT(%s, @@GLOBAL.gtid_executed) AS lacking",
    "snapshot": "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY",
    "position": "SELECT @@GLOBAL.gtid_executed AS position, GTID_SUBSET(@@GLOBAL.gtid_executed, %s) AS at_target",
    "rollback": "ROLLBACK",
    "tables": (
        "SELECT TABLE_SCHEMA AS `schema`, TABLE_NAME AS `table`, ENGINE AS engine, TABLE_ROWS AS estimate "
        "FROM information_schema.TABLES WHERE TABLE_TYPE = 'BASE TABLE' AND " + _NOT_SYSTEM
        + " ORDER BY TABLE_SCHEMA, TABLE_NAME"
    ),
    "columns": (
        "SELECT COLUMN_NAME AS name FROM information_schema.COLUMNS "
        "WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s ORDER BY ORDINAL_POSITION"
    ),
}

# MySQL error numbers explained.
ER_ACCESS_DENIED = 1045
ER_DBACCESS_DENIED = 1044
ER_TABLEACCESS_DENIED = 1142
CR_CONNECTION_ERROR = 2002
CR_CONN_HOST_ERROR = 2003
CR_SERVER_GONE = 2006
CR_SERVER_LOST = 2013

# A NULL column's mark in the row hash; never a SHA-256 (64 hexadecimal digits).
NULL_MARK = "N"


class ChecksumError(Exception):
    """The check could not be made; the message says why and what to do."""


class MemberError(ChecksumError):
    """A member could not be reached or refused a query."""

    def __init__(self, member, where, errno, message):
        self.member, self.where, self.errno, self.detail = member, where, errno, message
        super().__init__(explain_error(member, where, errno, message))


def explain_error(member, where, errno, message):
    """What a connection or query failure on one member means, for fail_json
    (names the member and its address, never the password)."""
    head = f"member {member} ({where})"
    if errno == ER_ACCESS_DENIED:
        return (
            f"{head} refused the account: {message}. Check login_user/login_password (the mysql_gr role's "
            "mysql_gr_checksum_user, allowed from this host) on that member."
        )
    if errno in (ER_DBACCESS_DENIED, ER_TABLEACCESS_DENIED):
        return f"{head} denied a read: {message}. The account needs SELECT on every schema it checks."
    if errno in (CR_CONNECTION_ERROR, CR_CONN_HOST_ERROR, CR_SERVER_GONE, CR_SERVER_LOST) or errno is None:
        return f"{head} is unreachable: {message}. Check `systemctl status mysql` there and the network to it."
    return f"{head} failed: ({errno}) {message}"


def quote_name(name):
    """A MySQL identifier in backticks (a backtick in it doubled)."""
    return "`" + str(name).replace("`", "``") + "`"


def row_hash_sql(columns):
    """SQL of one row's SHA-256 over COLUMNS (names, in table order). MySQL
    9.7 has no MD5() any more (measured: "No database selected", the name
    taken for a stored function).

    Each column becomes IFNULL(SHA2(col, 256), 'N'): 64 hexadecimal digits, or
    'N' for NULL, so NULL, '' and the text 'N' all differ, and no column's
    value can shift into its neighbour's (CONCAT_WS alone skips NULLs, and a
    separator can occur in a value). SHA2 reads each value on its own in its
    own character set, so columns of different collations never mix.
    """
    if not columns:
        raise ValueError("a table without columns")
    pieces = ", ".join(f"IFNULL(SHA2({quote_name(c)}, 256), '{NULL_MARK}')" for c in columns)
    return f"SHA2(CONCAT_WS('#', {pieces}), 256)"


def checksum_sql(schema, table, columns):
    """One table's row count and checksum: BIT_XOR of the first 64 bits of
    each row's SHA-256 (order-free, so no ORDER BY; a hash rather than CRC32,
    which is linear: two rows swapping values of equal length would cancel
    out in a BIT_XOR of CRC32s)."""
    digest = f"CAST(CONV(SUBSTRING({row_hash_sql(columns)}, 1, 16), 16, 10) AS UNSIGNED)"
    return (
        f"SELECT COUNT(*) AS row_count, BIT_XOR({digest}) AS checksum "
        f"FROM {quote_name(schema)}.{quote_name(table)}"
    )


def clean_set(value):
    """A GTID set as the server printed it, without its line breaks."""
    return (value or "").replace("\n", "")


def _flag(value):
    try:
        return int(value) != 0
    except (TypeError, ValueError):
        return False


class Member:
    """One member's connection: every query goes through rows(), which names
    the member in any error."""

    def __init__(self, name, where, cursor):
        self.name, self.where, self.cursor = name, where, cursor

    def rows(self, query, args=None):
        try:
            self.cursor.execute(query, args)
            return [dict(row) for row in self.cursor.fetchall()]
        except ChecksumError:
            raise
        except Exception as exc:  # any driver error: the member is named with it
            errno = exc.args[0] if exc.args and isinstance(exc.args[0], int) else None
            raise MemberError(self.name, self.where, errno, exc.args[-1] if exc.args else str(exc)) from exc

    def one(self, query, args=None):
        rows = self.rows(query, args)
        return rows[0] if rows else {}

    def rollback(self):
        self.rows(QUERIES["rollback"])


def compare_sets(on, sets):
    """[{member, peer, missing}] for every ordered pair of SETS (name -> GTID
    set): the transactions PEER executed that MEMBER has not, computed by
    the server ON (a Member)."""
    names = list(sets)
    missing = []
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            row = on.one(QUERIES["compare"], (sets[a], sets[b], sets[b], sets[a],
                                              sets[a], sets[b], sets[b], sets[a]))
            missing.append({"member": b, "peer": a, "missing": clean_set(row.get("only_a"))})
            missing.append({"member": a, "peer": b, "missing": clean_set(row.get("only_b"))})
    return missing


def choose_reference(names, info, missing, wanted=None):
    """The member the others must meet: WANTED, else the one writable member,
    else the first that lacks nothing another member has."""
    if wanted:
        if wanted not in names:
            raise ChecksumError(f"reference {wanted} is not one of the members ({', '.join(names)}).")
        return wanted
    writable = [n for n in names if not _flag(info[n].get("super_read_only")) and not _flag(info[n].get("read_only"))]
    if len(writable) == 1:
        return writable[0]
    for name in names:
        if not any(m["member"] == name and m["missing"] for m in missing):
            return name
    return names[0]


def _open_snapshot(member, target, wait_timeout):
    """Waits until MEMBER has applied TARGET, opens a consistent snapshot and
    says where it is: ('lagging'|'overshot'|'at', position)."""
    waited = member.one(QUERIES["wait"], (target, wait_timeout))
    if _flag(waited.get("timed_out")):
        return "lagging", clean_set(member.one(QUERIES["gtid"]).get("gtid_executed"))
    member.rows(QUERIES["snapshot"])
    row = member.one(QUERIES["position"], (target,))
    return ("at" if _flag(row.get("at_target")) else "overshot"), clean_set(row.get("position"))


def _attempt(members, reference, wait_timeout):
    """One try at snapshots at one GTID set: ('at', None, positions, target)
    with every snapshot open (positions: name -> the set each member read
    in its snapshot), or ('lagging'|'overshot', member, position, target)
    with every snapshot closed."""
    ref = members[reference]
    target = clean_set(ref.one(QUERIES["gtid"]).get("gtid_executed"))
    order = [reference] + [n for n in members if n != reference]
    positions = {}
    for name in order:
        state, position = _open_snapshot(members[name], target, wait_timeout)
        if state != "at":
            for opened in order[:order.index(name) + 1]:
                members[opened].rollback()
            return state, name, position, target
        positions[name] = position
    return "at", None, {n: positions[n] for n in members}, target


def _tables_of(member, schemas, max_rows, only=None):
    """(tables, skipped) of one member: {(schema, table): columns}, and the
    tables left out with the reason; ONLY: the tables wanted (default all)."""
    tables, skipped = {}, {}
    for row in member.rows(QUERIES["tables"]):
        key = (row["schema"], row["table"])
        if (schemas and key[0] not in schemas) or (only is not None and key not in only):
            continue
        engine = row.get("engine") or ""
        if engine.lower() != "innodb":
            skipped[key] = f"engine {engine or 'unknown'}: not transactional, no consistent snapshot"
            continue
        estimate = int(row.get("estimate") or 0)
        if max_rows and estimate > max_rows:
            skipped[key] = f"about {estimate} rows, more than max_rows ({max_rows})"
            continue
        tables[key] = None
    for key in tables:
        tables[key] = [c["name"] for c in member.rows(QUERIES["columns"], key)]
    return tables, skipped


def _checksums(members, schemas, max_rows, only=None):
    """{(schema, table): {member: {rows, checksum} or None}} read inside the
    open snapshots, and the skipped tables."""
    found, skipped = {}, {}
    for name, member in members.items():
        tables, left_out = _tables_of(member, schemas, max_rows, only)
        for key, reason in left_out.items():
            skipped.setdefault(key, reason)
        for key, columns in tables.items():
            row = member.one(checksum_sql(key[0], key[1], columns))
            found.setdefault(key, {})[name] = {
                "rows": int(row.get("row_count") or 0),
                "checksum": "%016x" % int(row.get("checksum") or 0),
            }
    for key in list(found):
        if key in skipped:
            del found[key]
            continue
        for name in members:
            found[key].setdefault(name, None)
    return found, skipped


def differences(found, reference):
    """[{schema, table, kind, members: [reference, member]}] for each member
    whose result for a table differs from the reference's: missing_table
    (on one side only), rows (counts differ) or checksum (same count,
    different contents)."""
    out = []
    for (schema, table), per_member in sorted(found.items()):
        ref = per_member.get(reference)
        for name, mine in per_member.items():
            if name == reference:
                continue
            if ref is None and mine is None:
                continue
            if ref is None or mine is None:
                kind = "missing_table"
            elif ref["rows"] != mine["rows"]:
                kind = "rows"
            elif ref["checksum"] != mine["checksum"]:
                kind = "checksum"
            else:
                continue
            out.append({"schema": schema, "table": table, "kind": kind, "members": [reference, name]})
    return out


def describe(diff, found):
    """One sentence about a difference."""
    schema, table = diff["schema"], diff["table"]
    ref, other = diff["members"]
    values = found.get((schema, table), {})
    name = f"{schema}.{table}"
    if diff["kind"] == "missing_table":
        where = other if values.get(other) is None else ref
        return f"{name}: the table is missing on {where} ({ref} is the reference)"
    if diff["kind"] == "rows":
        return (f"{name}: {values[other]['rows']} rows on {other}, "
                f"{values[ref]['rows']} on {ref} (the reference)")
    return f"{name}: same row count ({values[ref]['rows']}) but different contents on {ref} (the reference) and {other}"


def _finish_without_tables(members, reference, reason):
    """The result when no common snapshot could be taken: every member's set
    now, what each lacks, and why."""
    first = next(iter(members.values()))
    sets = {n: clean_set(m.one(QUERIES["gtid"]).get("gtid_executed")) for n, m in members.items()}
    return {
        "reference": reference,
        "position": None,
        "gtid_executed": sets,
        "gtid_missing": compare_sets(first, sets),
        "tables": [],
        "not_compared": [],
        "differences": [],
        "consistent": False,
        "snapshot_attempts": None,
        "reasons": [reason],
    }


def _aligned(members, reference, wait_timeout, attempts, sleep):
    """Opens every member's snapshot at one GTID set: returns (positions,
    the set, attempts used), or raises ChecksumError; a finding (a member
    lagging behind, or holding transactions the reference lacks) is
    returned as (None, None, reason)."""
    last = {}
    for attempt in range(1, attempts + 1):
        state, name, position, target = _attempt(members, reference, wait_timeout)
        if state == "at":
            return position, target, attempt
        if state == "lagging":
            return None, None, (
                f"{name} did not apply the transactions of {reference} (the reference) within {wait_timeout} s; "
                f"it is at {position or 'nothing'}, the reference at {target}"
            )
        # Overshot: NAME applied transactions past the reference's set. Either
        # later writes (try again), or transactions the reference never
        # executed (errant): the reference gets a moment to show it has them.
        last[name] = position
        ref = members[reference]
        if _flag(ref.one(QUERIES["wait"], (position, min(wait_timeout, 5))).get("timed_out")):
            errant = ref.one(QUERIES["lacking"], (position,)).get("lacking")
            return None, None, (
                f"{name} holds transactions {reference} (the reference) never executed: "
                f"{clean_set(errant) or position} (errant transactions)"
            )
        sleep(0.05 * attempt)
    raise ChecksumError(
        f"the members' snapshots never met at one GTID set in {attempts} attempts: writes went on faster than "
        f"the members applied them (last positions past the reference's: "
        f"{'; '.join(f'{n} at {p}' for n, p in last.items())}). Run it again, with more attempts, "
        "or at a quieter moment."
    )


def run_check(members, reference=None, schemas=None, wait_timeout=30, attempts=10, max_rows=0, sleep=time.sleep):
    """The module's result. MEMBERS: {name: Member}, in the order given."""
    names = list(members)
    if len(names) < 2:
        raise ChecksumError("give at least two members to compare.")
    for member in members.values():
        member.rows(QUERIES["isolation"])
        member.rows(QUERIES["no_time_limit"])
    info = {n: m.one(QUERIES["server"]) for n, m in members.items()}
    first = members[names[0]]
    start = compare_sets(first, {n: clean_set(info[n].get("gtid_executed")) for n in names})
    reference = choose_reference(names, info, start, reference)

    positions, target, used = _aligned(members, reference, wait_timeout, attempts, sleep)
    if positions is None:
        return _finish_without_tables(members, reference, used)
    try:
        found, skipped = _checksums(members, schemas, max_rows)
    finally:
        for member in members.values():
            member.rollback()
    diffs = differences(found, reference)

    if diffs:
        # Seen once: checked again at a new common set, so that a transaction
        # caught half-way at a snapshot's start is not reported.
        suspects = {(d["schema"], d["table"]) for d in diffs}
        positions, target, again = _aligned(members, reference, wait_timeout, attempts, sleep)
        if positions is None:
            return _finish_without_tables(members, reference, again)
        used += again
        try:
            rechecked, _positions = _checksums(members, schemas, max_rows, only=suspects)
        finally:
            for member in members.values():
                member.rollback()
        for key in suspects:
            found.pop(key, None)
            if key in rechecked:
                found[key] = rechecked[key]
        diffs = [d for d in differences(found, reference) if (d["schema"], d["table"]) in suspects]

    return {
        "reference": reference,
        "position": target,
        "gtid_executed": positions,
        "gtid_missing": compare_sets(first, positions),
        "tables": [{"schema": s, "table": t, "members": per_member} for (s, t), per_member in sorted(found.items())],
        "not_compared": [{"schema": s, "table": t, "reason": r} for (s, t), r in sorted(skipped.items())],
        "differences": diffs,
        "consistent": not diffs,
        "snapshot_attempts": used,
        "reasons": [describe(d, found) for d in diffs],
    }
