#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Compare the data of MySQL members table by table, at one GTID set."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: gr_checksum
short_description: Compare MySQL Group Replication members' data, table by table, at one GTID set
version_added: 0.3.0
description:
  - Connects to every member given, compares their executed GTID sets pair by pair (MySQL's own
    C(GTID_SUBSET) and C(GTID_SUBTRACT), run on the first member), then checksums every table of the
    schemas checked on every member at the same GTID set, and reports each table whose row count or
    contents differ, or that is missing on a member.
  - It finds what the GTID sets cannot show, such as a row written on one member with binary logging
    off, or a change made while a member was outside the group.
  - Read-only; needs SELECT on the schemas it checks (the P(hapair.stack.mysql_gr#role) role's
    C(mysql_gr_checksum_user) has it on the application's database and the health gate's).
  - "How the snapshots meet at one GTID set, while writes go on: on the reference member (the one given,
    else the writable member, else the member holding every other member's transactions) the module
    reads C(@@GLOBAL.gtid_executed) (G), opens C(START TRANSACTION WITH CONSISTENT SNAPSHOT) at
    REPEATABLE READ and reads the set again: the snapshot is at G when the set did not move. Each other
    member first waits until it has applied G (C(WAIT_FOR_EXECUTED_GTID_SET)), then opens its snapshot
    the same way. When a member's snapshot went past G (it applied a later transaction meanwhile), every
    snapshot is closed and a new attempt starts from a newer G, up to O(attempts) times. The checksums
    are taken only once every snapshot is at G, so no comparison is ever made between different sets."
  - "Per table, inside each member's snapshot: the row count and a 64-bit C(BIT_XOR) of each row's SHA-256
    over every column (the columns from information_schema; each column's own SHA-256, or C(N) for NULL, so
    NULL, an empty string and neighbouring values cannot be confused). C(CHECKSUM TABLE) is not used: it does not read a
    snapshot. A table that differs is checked again at a new common set before it is reported."
  - "Limits: MySQL has no atomic (snapshot, gtid_executed) pair; a transaction whose commit spans the
    snapshot's start by microseconds could be seen on one side, which the second check filters out.
    Each table is read whole in one SELECT (no chunking: chunks would all have to be read in the same
    snapshot anyway); every snapshot stays open while the tables are read, which holds back InnoDB purge
    on every member for that time, so bound big tables with O(max_rows) or O(schemas). Only InnoDB base
    tables are compared (others are listed as skipped); views, routines, triggers, events, accounts and
    table definitions are not compared, except through their effect on the rows. System schemas
    (mysql, sys, performance_schema, information_schema, mysql_innodb_cluster_metadata) are never
    checked. Under a steady stream of writes faster than the members apply them the snapshots may never
    meet; the module then fails and says so."
options:
  members:
    description:
      - The members to compare, at least two. Each is reached over TCP (O(members[].login_host)) or
        through a socket (O(members[].login_unix_socket)), as P(hapair.stack.gr_status#module) is.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: The member's name in the results (default its host, or its socket).
        type: str
      login_host:
        description: Host to connect to over TCP (with TLS, see O(ca_cert)).
        type: str
      login_port:
        description: TCP port with O(members[].login_host); default O(login_port).
        type: int
      login_unix_socket:
        description: Server socket, used when O(members[].login_host) is not set; default O(login_unix_socket).
        type: path
  login_port:
    description: TCP port of the members that give none.
    type: int
    default: 3306
  login_unix_socket:
    description: Server socket of the members that give neither a host nor a socket.
    type: path
    default: /run/mysqld/mysqld.sock
  login_user:
    description: Account to connect to every member as (the mysql_gr role's C(mysql_gr_checksum_user)).
    type: str
    default: hapair_checksum
  login_password:
    description: Its password (never logged).
    type: str
  connect_timeout:
    description: Seconds to wait for each connection.
    type: int
    default: 5
  ca_cert:
    description:
      - CA certificate that TCP connections verify the members' certificates against. Without it, TCP
        connections are encrypted but the certificate is not verified (MySQL's own self-signed ones).
    type: path
  schemas:
    description: Schemas to check. Default, every schema but the system ones.
    type: list
    elements: str
  reference:
    description:
      - Name of the member the others must meet and are compared with. Default, the one writable member
        (the primary), else the member that holds every other member's transactions.
    type: str
  wait_timeout:
    description: Seconds (1 or more) each member may take to apply the reference's transactions.
    type: int
    default: 30
  attempts:
    description: How many times (1 or more) to try to open every member's snapshot at one GTID set.
    type: int
    default: 10
  max_rows:
    description:
      - Tables with more rows than this (information_schema's estimate) are skipped and listed in
        RV(not_compared); 0 checks every table.
    type: int
    default: 0
requirements:
  - PyMySQL on the host that runs the module (python3-pymysql).
extends_documentation_fragment:
  - hapair.stack.attributes.read_only
seealso:
  - module: hapair.stack.gr_status
author:
  - hapair.stack maintainers (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Compare the data of every member of the pair's group
  hapair.stack.gr_checksum:
    # [{name: ha1, login_host: 192.0.2.11}, {name: ha2, login_host: 192.0.2.12}]
    members: >-
      {{ dict(groups['pair_shop'] | zip(groups['pair_shop'] | map('extract', hostvars, 'hapair_node_address')))
         | dict2items(key_name='name', value_name='login_host') }}
    login_password: "{{ mysql_gr_checksum_password }}"
  register: data
  run_once: true

- name: Stop when a table differs
  ansible.builtin.assert:
    that: data.consistent
    fail_msg: "{{ data.reasons | join('; ') }}"

- name: Check one schema, members named, over the socket for the local one
  hapair.stack.gr_checksum:
    members:
      - {name: ha1, login_unix_socket: /run/mysqld/mysqld.sock}
      - {name: ha2, login_host: 192.0.2.12}
    login_password: "{{ mysql_gr_checksum_password }}"
    schemas: [hapair]
    max_rows: 1000000
"""

RETURN = r"""
reference:
  description: The member whose GTID set the others met, and whose tables the others are compared with.
  type: str
  returned: always
  sample: ha1
position:
  description: The GTID set at which every member's tables were read; null when no common snapshot was taken.
  type: str
  returned: always
  sample: "0a4bd628-8a4e-50f0-99ab-2c0568c2b901:1-42"
gtid_executed:
  description:
    - Each member's executed GTID set (name -> set), as read in its snapshot, or, when no common
      snapshot was taken, at the end.
  type: dict
  returned: always
  sample: {ha1: "0a4bd628-8a4e-50f0-99ab-2c0568c2b901:1-42", ha2: "0a4bd628-8a4e-50f0-99ab-2c0568c2b901:1-42"}
gtid_missing:
  description:
    - For every ordered pair of members, the transactions O(members[].name) C(peer) executed that
      C(member) has not (C(GTID_SUBTRACT), computed by MySQL); empty when it lacks none.
  type: list
  elements: dict
  returned: always
  contains:
    member: {description: The member that lacks the transactions, type: str}
    peer: {description: The member that has them, type: str}
    missing: {description: The GTID set missing on C(member), type: str}
tables:
  description: Every table compared, with each member's result (null where the table is missing).
  type: list
  elements: dict
  returned: always
  contains:
    schema: {description: Schema, type: str}
    table: {description: Table, type: str}
    members:
      description: Member name -> C(rows) (row count) and C(checksum) (16 hexadecimal digits), or null.
      type: dict
  sample:
    - {schema: hapair, table: canary_writes, members: {ha1: {rows: 120, checksum: 3f2a9c0d11e4b7a8},
                                                       ha2: {rows: 120, checksum: 3f2a9c0d11e4b7a8}}}
not_compared:
  description: Tables not compared, and why (not InnoDB, more rows than O(max_rows)).
  type: list
  elements: dict
  returned: always
  contains:
    schema: {description: Schema, type: str}
    table: {description: Table, type: str}
    reason: {description: Why it was skipped, type: str}
differences:
  description:
    - One entry per table and member whose result differs from the reference's.
  type: list
  elements: dict
  returned: always
  contains:
    schema: {description: Schema, type: str}
    table: {description: Table, type: str}
    kind:
      description: C(missing_table) (on one side only), C(rows) (counts differ) or C(checksum) (same count, other contents).
      type: str
    members: {description: The reference and the member that differs from it, type: list, elements: str}
  sample:
    - {schema: hapair, table: canary_writes, kind: rows, members: [ha1, ha2]}
consistent:
  description:
    - Whether every member met the reference's GTID set and no table differs. False when a member lags
      more than O(wait_timeout) or holds transactions the reference lacks (see RV(reasons)).
  type: bool
  returned: always
snapshot_attempts:
  description: Attempts it took to open every member's snapshot at one GTID set (null when none was taken).
  type: int
  returned: always
reasons:
  description: Why the data is not consistent, one sentence each (names the schema.table and the members).
  type: list
  elements: str
  returned: always
  sample: ["hapair.canary_writes: 121 rows on ha2, 120 on ha1 (the reference)"]
"""

import ssl

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.hapair.stack.plugins.module_utils.gr_checksum import (
    ChecksumError,
    Member,
    MemberError,
    run_check,
)

try:
    import pymysql
except ImportError:  # pragma: no cover - reported by main()
    pymysql = None


def member_target(member, params):
    """(name, where, pymysql.connect keyword arguments for the address) of
    one member; what it does not give comes from the module's own options."""
    if member.get("login_host"):
        port = member.get("login_port") or params["login_port"]
        where = f"{member['login_host']}:{port}"
        target = dict(host=member["login_host"], port=port)
    else:
        where = member.get("login_unix_socket") or params["login_unix_socket"]
        target = dict(unix_socket=where)
    return member.get("name") or where, where, target


def tls_context(ca_cert):
    """TLS for TCP connections: verified against CA_CERT, else encrypted only."""
    context = ssl.create_default_context(cafile=ca_cert) if ca_cert else ssl.create_default_context()
    context.check_hostname = False
    if not ca_cert:
        context.verify_mode = ssl.CERT_NONE  # the members' own self-signed certificates
    return context


def connect(module, member):
    """A Member for one entry of the members option; fails naming it."""
    p = module.params
    name, where, target = member_target(member, p)
    if "host" in target:
        target["ssl"] = tls_context(p["ca_cert"])
    try:
        conn = pymysql.connect(
            user=p["login_user"], password=p["login_password"] or "", connect_timeout=p["connect_timeout"],
            cursorclass=pymysql.cursors.DictCursor, autocommit=True, **target
        )
    except pymysql.err.MySQLError as exc:
        errno = exc.args[0] if exc.args and isinstance(exc.args[0], int) else None
        raise MemberError(name, where, errno, exc.args[-1] if exc.args else str(exc)) from exc
    return conn, Member(name, where, conn.cursor())


def main():
    module = AnsibleModule(
        argument_spec=dict(
            members=dict(type="list", elements="dict", required=True, options=dict(
                name=dict(type="str"),
                login_host=dict(type="str"),
                login_port=dict(type="int"),
                login_unix_socket=dict(type="path"),
            )),
            login_port=dict(type="int", default=3306),
            login_unix_socket=dict(type="path", default="/run/mysqld/mysqld.sock"),
            login_user=dict(type="str", default="hapair_checksum"),
            login_password=dict(type="str", no_log=True),
            connect_timeout=dict(type="int", default=5),
            ca_cert=dict(type="path"),
            schemas=dict(type="list", elements="str"),
            reference=dict(type="str"),
            wait_timeout=dict(type="int", default=30),
            attempts=dict(type="int", default=10),
            max_rows=dict(type="int", default=0),
        ),
        supports_check_mode=True,
    )
    if pymysql is None:
        module.fail_json(msg=missing_required_lib("PyMySQL (python3-pymysql)"))
    p = module.params
    names = [member_target(m, p)[0] for m in p["members"]]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        module.fail_json(msg=f"members named twice: {', '.join(duplicates)}; give each a distinct name.")
    for option in ("attempts", "wait_timeout"):
        if p[option] < 1:
            module.fail_json(msg=f"{option} must be 1 or more.")

    connections = []
    try:
        members = {}
        for member in p["members"]:
            conn, checked = connect(module, member)
            connections.append(conn)
            members[checked.name] = checked
        result = run_check(members, reference=p["reference"], schemas=p["schemas"], wait_timeout=p["wait_timeout"],
                           attempts=p["attempts"], max_rows=p["max_rows"])
    except ChecksumError as exc:
        module.fail_json(msg=str(exc))
    finally:
        for conn in connections:
            try:
                conn.close()
            except Exception:  # pragma: no cover - closing is best effort
                pass
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
