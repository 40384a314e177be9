# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Group Replication state: the queries gr_status runs, and pure functions
that turn their rows into the module's result (unit-tested on rows
recorded from a real group, tests/unit/fixtures/gr_status/)."""

from __future__ import annotations

# Each query's rows are kept under its key, as dicts: that is what the
# recorder saves and what summarize() reads.
QUERIES = {
    "plugin": (
        "SELECT PLUGIN_STATUS AS status FROM information_schema.PLUGINS "
        "WHERE PLUGIN_NAME = 'group_replication'"
    ),
    "server": (
        "SELECT @@server_uuid AS server_uuid, @@super_read_only AS super_read_only, "
        "@@read_only AS read_only, @@gtid_executed AS gtid_executed, @@version AS version"
    ),
    "members": (
        "SELECT MEMBER_ID AS id, MEMBER_HOST AS host, MEMBER_PORT AS port, MEMBER_STATE AS state, "
        "MEMBER_ROLE AS role, MEMBER_VERSION AS version "
        "FROM performance_schema.replication_group_members ORDER BY MEMBER_HOST, MEMBER_PORT"
    ),
    "stats": (
        "SELECT MEMBER_ID AS id, COUNT_TRANSACTIONS_IN_QUEUE AS certification_queue, "
        "COUNT_TRANSACTIONS_REMOTE_IN_APPLIER_QUEUE AS applier_queue "
        "FROM performance_schema.replication_group_member_stats"
    ),
}

# MySQL error numbers that gr_status explains.
ER_ACCESS_DENIED = 1045
ER_TABLEACCESS_DENIED = 1142
CR_CONNECTION_ERROR = 2002
CR_CONN_HOST_ERROR = 2003


class GrStatusError(Exception):
    """A failure with a message that says what to check."""


def collect(cursor):
    """Run every query on a DB-API cursor returning dict rows."""
    raw = {}
    for key, query in QUERIES.items():
        if key in ("members", "stats") and not plugin_active(raw):
            raw[key] = []
            continue
        cursor.execute(query)
        raw[key] = [dict(row) for row in cursor.fetchall()]
    return raw


def plugin_active(raw):
    rows = raw.get("plugin") or []
    return bool(rows) and rows[0].get("status") == "ACTIVE"


def explain_error(errno, message, where):
    """The error a connection or query failure means, for fail_json."""
    if errno == ER_ACCESS_DENIED:
        return (
            f"MySQL at {where} refused the account: {message}. Check login_user/login_password "
            "(the role's mysql_gr_monitor_user and its password)."
        )
    if errno == ER_TABLEACCESS_DENIED:
        return (
            f"MySQL at {where} denied a read: {message}. The monitoring account needs "
            "SELECT on performance_schema.*."
        )
    if errno in (CR_CONNECTION_ERROR, CR_CONN_HOST_ERROR) or errno is None:
        return f"MySQL is down or unreachable at {where}: {message}. Check `systemctl status mysql` on the node."
    return f"MySQL at {where} failed: ({errno}) {message}"


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def summarize(raw, expected_members=None, max_queue=100):
    """The module's result from the recorded rows.

    expected_members: hosts (as MEMBER_HOST reports them) that must be
    ONLINE; None skips that check. max_queue: transactions waiting for
    certification or apply above which the member is lagging.
    """
    if not plugin_active(raw):
        status = (raw.get("plugin") or [{}])[0].get("status", "not installed")
        raise GrStatusError(
            f"The group_replication plugin is not loaded (status: {status}). Load it with "
            "plugin_load_add = group_replication.so (the mysql_gr role does) and restart mysqld."
        )
    server = (raw.get("server") or [{}])[0]
    me = server.get("server_uuid")
    members = [
        {
            "id": row.get("id"),
            "host": row.get("host"),
            "port": _int(row.get("port")),
            "state": row.get("state") or "OFFLINE",
            "role": row.get("role") or "",
            "version": row.get("version") or "",
        }
        for row in raw.get("members") or []
        if row.get("id")
    ]
    local = next((m for m in members if m["id"] == me), None)
    state = local["state"] if local else "OFFLINE"
    role = local["role"] if local else ""
    online = [m for m in members if m["state"] == "ONLINE"]
    primaries = [m for m in online if m["role"] == "PRIMARY"]
    stats = next((row for row in raw.get("stats") or [] if row.get("id") == me), {})
    cert_queue = _int(stats.get("certification_queue"))
    apply_queue = _int(stats.get("applier_queue"))
    writable = state == "ONLINE" and role == "PRIMARY" and not _int(server.get("super_read_only")) \
        and not _int(server.get("read_only"))

    reasons = []
    if state != "ONLINE":
        reasons.append(f"this member is {state}, not ONLINE")
    if state == "ONLINE" and len(primaries) != 1:
        reasons.append(
            f"the group has {len(primaries)} ONLINE PRIMARY members"
            + (f" ({', '.join(m['host'] for m in primaries)})" if primaries else "")
            + ", expected exactly 1"
        )
    for member in members:
        if member["state"] != "ONLINE" and member["id"] != me:
            reasons.append(f"member {member['host']}:{member['port']} is {member['state']}")
    if expected_members is not None:
        seen = {m["host"] for m in online}
        missing = [h for h in expected_members if h not in seen]
        if missing:
            reasons.append(f"expected member(s) not ONLINE: {', '.join(missing)}")
        extra = sorted(seen - set(expected_members))
        if extra:
            reasons.append(f"unexpected ONLINE member(s): {', '.join(extra)}")
    if role == "PRIMARY" and state == "ONLINE" and not writable:
        reasons.append("this member is the PRIMARY but read-only (super_read_only is on)")
    if cert_queue > max_queue:
        reasons.append(f"{cert_queue} transactions wait for certification (more than {max_queue})")
    if apply_queue > max_queue:
        reasons.append(f"{apply_queue} transactions wait to be applied (more than {max_queue})")

    primary = primaries[0] if len(primaries) == 1 else None
    return {
        "server_uuid": me,
        "state": state,
        "role": role,
        "members": [dict(m.items()) for m in members],
        "primary": {"host": primary["host"], "port": primary["port"], "id": primary["id"]} if primary else None,
        "writable": writable,
        "certification_queue": cert_queue,
        "applier_queue": apply_queue,
        "gtid_executed": (server.get("gtid_executed") or "").replace("\n", ""),
        "version": server.get("version") or "",
        "healthy": not reasons,
        "reasons": reasons,
    }
