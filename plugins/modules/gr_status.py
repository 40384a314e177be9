#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Report a MySQL Group Replication member's view of its group."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: gr_status
short_description: Report MySQL Group Replication state as this member sees it
version_added: 0.1.0
description:
  - Reads the group's members (host, port, state, role, version), the primary, whether this member
    takes writes, the transactions queued for certification and for apply, and the executed GTID
    set, and gives a verdict (C(healthy)) with the reasons when it is not.
  - Read-only; connects as the monitoring account of the P(hapair.stack.mysql_gr#role) role, which
    needs only SELECT on C(performance_schema.*).
  - Fails with a message that says what to check when MySQL is down, the group_replication plugin
    is not loaded, or the account is refused.
options:
  login_user:
    description: Account to connect as (the role's C(mysql_gr_monitor_user)).
    type: str
    default: hapair_monitor
  login_password:
    description: Its password.
    type: str
  login_unix_socket:
    description: Server socket; used unless O(login_host) is set.
    type: path
    default: /run/mysqld/mysqld.sock
  login_host:
    description: Connect over TCP to this host instead of the socket.
    type: str
  login_port:
    description: TCP port with O(login_host).
    type: int
    default: 3306
  connect_timeout:
    description: Seconds to wait for the connection.
    type: int
    default: 5
  expected_members:
    description:
      - Member hosts (as C(report_host) names them) that must all be ONLINE for a healthy verdict;
        an ONLINE member not listed is reported too. Omit to skip this check.
    type: list
    elements: str
  max_queue:
    description: Transactions waiting for certification or apply above which the member is lagging.
    type: int
    default: 100
requirements:
  - PyMySQL on the managed node (python3-pymysql).
extends_documentation_fragment:
  - hapair.stack.attributes.read_only
author:
  - hapair.stack maintainers (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Read the group as this member sees it
  hapair.stack.gr_status:
    login_password: "{{ mysql_gr_monitor_password }}"
    expected_members: "{{ groups['pair_shop'] | map('extract', hostvars, 'hapair_node_address') | list }}"
  register: gr

- name: Stop when the member is not healthy
  ansible.builtin.assert:
    that: gr.healthy
    fail_msg: "{{ gr.reasons | join('; ') }}"
"""

RETURN = r"""
server_uuid:
  description: This member's server_uuid.
  type: str
  returned: always
state:
  description: This member's state (ONLINE, RECOVERING, OFFLINE, ERROR, UNREACHABLE).
  type: str
  returned: always
  sample: ONLINE
role:
  description: This member's role, PRIMARY or SECONDARY (empty outside a group).
  type: str
  returned: always
members:
  description: Every member this member sees.
  type: list
  elements: dict
  returned: always
  contains:
    id: {description: server_uuid, type: str}
    host: {description: report_host, type: str}
    port: {description: port, type: int}
    state: {description: member state, type: str}
    role: {description: member role, type: str}
    version: {description: MySQL version of the member, type: str}
primary:
  description: The ONLINE PRIMARY (host, port, id), or null when there is not exactly one.
  type: dict
  returned: always
writable:
  description: Whether this member takes writes (ONLINE PRIMARY with read_only and super_read_only off).
  type: bool
  returned: always
certification_queue:
  description: Transactions waiting for conflict detection on this member.
  type: int
  returned: always
applier_queue:
  description: Certified transactions waiting to be applied on this member.
  type: int
  returned: always
gtid_executed:
  description: This member's executed GTID set.
  type: str
  returned: always
version:
  description: This server's version.
  type: str
  returned: always
healthy:
  description: Whether no reason below was found.
  type: bool
  returned: always
reasons:
  description: Why the member or the group is not healthy, one sentence each.
  type: list
  elements: str
  returned: always
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.hapair.stack.plugins.module_utils.gr_status import (
    GrStatusError,
    collect,
    explain_error,
    summarize,
)

try:
    import pymysql
except ImportError:  # pragma: no cover - reported by main()
    pymysql = None


def main():
    module = AnsibleModule(
        argument_spec=dict(
            login_user=dict(type="str", default="hapair_monitor"),
            login_password=dict(type="str", no_log=True),
            login_unix_socket=dict(type="path", default="/run/mysqld/mysqld.sock"),
            login_host=dict(type="str"),
            login_port=dict(type="int", default=3306),
            connect_timeout=dict(type="int", default=5),
            expected_members=dict(type="list", elements="str"),
            max_queue=dict(type="int", default=100),
        ),
        supports_check_mode=True,
    )
    if pymysql is None:
        module.fail_json(msg=missing_required_lib("PyMySQL (python3-pymysql)"))
    p = module.params
    target = dict(host=p["login_host"], port=p["login_port"]) if p["login_host"] else dict(unix_socket=p["login_unix_socket"])
    where = f"{p['login_host']}:{p['login_port']}" if p["login_host"] else p["login_unix_socket"]
    try:
        conn = pymysql.connect(
            user=p["login_user"], password=p["login_password"] or "", connect_timeout=p["connect_timeout"],
            cursorclass=pymysql.cursors.DictCursor, **target
        )
        try:
            raw = collect(conn.cursor())
        finally:
            conn.close()
        result = summarize(raw, p["expected_members"], p["max_queue"])
    except pymysql.err.MySQLError as exc:
        errno = exc.args[0] if exc.args and isinstance(exc.args[0], int) else None
        module.fail_json(msg=explain_error(errno, exc.args[-1] if exc.args else str(exc), where))
    except GrStatusError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
