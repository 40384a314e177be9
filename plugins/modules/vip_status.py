#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: hapair.stack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: vip_status
short_description: Report which virtual IPs a host holds and its keepalived VRRP state
version_added: 0.2.0
description:
  - For one host, reports each virtual IP it is configured for, whether the
    host holds it now (read from the kernel with C(ip -j addr)), and
    keepalived's VRRP state per instance and since when (read from the state
    files that the C(hapair.stack.keepalived) role's notify script writes).
  - Read-only; nothing on the host changes.
  - The configured instances come from the manifest the keepalived role
    writes, or from O(instances).
author: hapair.stack maintainers (!UNKNOWN)
requirements:
  - C(ip) from iproute2 with JSON output (C(-j)) on the host.
extends_documentation_fragment:
  - hapair.stack.attributes.read_only
options:
  manifest:
    description:
      - JSON file with the instances of this host (written by the keepalived
        role), used when O(instances) is not given.
    type: path
    default: /etc/keepalived/hapair-vips.json
  instances:
    description:
      - The instances to report, instead of those in O(manifest).
    type: list
    elements: dict
    suboptions:
      name:
        description: The VRRP instance's name (its state file is C(<state_dir>/<name>.state)).
        type: str
        required: true
      vips:
        description: The instance's virtual IPs, with or without a prefix.
        type: list
        elements: str
        required: true
      advert_int:
        description: The instance's advert interval, used to tell a settled BACKUP from a starting one.
        type: float
        default: 1.0
      priority:
        description: This host's priority in the instance (for the master-down interval).
        type: int
        default: 100
  state_dir:
    description:
      - Directory of the state files. Defaults to the one in O(manifest), else
        C(/var/lib/hapair/vrrp).
    type: path
  pid_file:
    description: keepalived's pid file, to tell whether it runs.
    type: path
    default: /run/keepalived.pid
  wait:
    description:
      - Seconds to wait for keepalived to run and every instance to settle
        (RV(instances[].settled)) before reporting. The module reports the
        state it finds either way and never fails for it; assert on the result.
    type: float
    default: 0
notes:
  - A state file records the last transition keepalived reported. When
    keepalived does not run, every instance is reported in state C(STOP)
    (the recorded one is in RV(instances[].recorded_state)).
seealso:
  - name: keepalived.conf(5), notify
    description: The arguments keepalived passes to a notify script.
    link: https://keepalived.org/manpage.html
"""

EXAMPLES = r"""
- name: Read the VIPs of this node
  hapair.stack.vip_status:
  register: vip

- name: Fail unless this node holds the web VIP as MASTER
  ansible.builtin.assert:
    that:
      - "'192.0.2.100' in vip.held"
      - "'web' in vip.master"

- name: Wait up to 30 s for the election to end, then report
  hapair.stack.vip_status:
    wait: 30
  register: vip

- name: Report on instances given by hand
  hapair.stack.vip_status:
    instances:
      - name: web
        vips: [192.0.2.100/24]
        advert_int: 0.1
    state_dir: /var/lib/hapair/vrrp
"""

RETURN = r"""
waited:
  description: Seconds the module waited (see O(wait)).
  returned: success
  type: float
  sample: 0.4
keepalived_running:
  description: Whether keepalived runs (its pid file names a live process).
  returned: success
  type: bool
  sample: true
held:
  description: The configured VIPs this host holds now.
  returned: success
  type: list
  elements: str
  sample: [192.0.2.100]
master:
  description: The instances in state MASTER on this host.
  returned: success
  type: list
  elements: str
  sample: [web]
vips:
  description: Each configured VIP.
  returned: success
  type: list
  elements: dict
  contains:
    address:
      description: The VIP.
      type: str
      sample: 192.0.2.100
    instance:
      description: The instance it belongs to.
      type: str
      sample: web
    held:
      description: Whether the host holds it now.
      type: bool
      sample: true
    interface:
      description: The interface it is on, when held.
      type: str
      sample: eth0
    prefix:
      description: Its prefix length on that interface, when held.
      type: int
      sample: 24
instances:
  description: keepalived's state per VRRP instance.
  returned: success
  type: list
  elements: dict
  contains:
    name:
      description: The instance.
      type: str
      sample: web
    state:
      description: MASTER, BACKUP, FAULT, STOP, DELETED or UNKNOWN (no state file yet); STOP when keepalived does not run.
      type: str
      sample: MASTER
    recorded_state:
      description: The state last written to the state file.
      type: str
      sample: MASTER
    since:
      description: When the instance entered the state (epoch seconds).
      type: float
      sample: 1764070000.123456
    since_iso:
      description: The same in ISO 8601, UTC.
      type: str
      sample: "2026-11-25T11:40:00.123456Z"
    age:
      description: Seconds in the state.
      type: float
      sample: 42.5
    previous:
      description: The state before.
      type: str
      sample: BACKUP
    priority:
      description: The priority keepalived reported with the change.
      type: int
      sample: 150
    vips:
      description: The instance's VIPs.
      type: list
      elements: str
      sample: [192.0.2.100]
    holds_vips:
      description: Whether the host holds all of them.
      type: bool
      sample: true
    holds_any_vip:
      description: Whether the host holds any of them.
      type: bool
      sample: true
    settled:
      description: MASTER, or BACKUP for longer than the master-down interval (the election is over).
      type: bool
      sample: true
"""

import json
import os
import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.hapair.stack.plugins.module_utils.vip import (
    VipError,
    parse_ip_addr,
    parse_pid,
    is_settled,
    parse_state,
    vip_status,
)

DEFAULT_STATE_DIR = "/var/lib/hapair/vrrp"


def _read(path):
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError:
        return None


def read_status(module, instances, state_dir):
    """Read the kernel's addresses, keepalived's pid and the state files once."""
    rc, out, err = module.run_command(["ip", "-j", "addr", "show"])
    if rc != 0:
        module.fail_json(msg=f"'ip -j addr show' failed (rc {rc}): {err.strip()}; is iproute2 installed?")
    try:
        addresses = parse_ip_addr(out)
    except VipError as exc:
        module.fail_json(msg=str(exc))
    pid = parse_pid(_read(module.params["pid_file"]))
    running = pid is not None and os.path.exists(f"/proc/{pid}")
    states = {i["name"]: parse_state(_read(os.path.join(state_dir, f"{i['name']}.state"))) for i in instances}
    return vip_status(instances, addresses, states, running, time.time())


def main():
    module = AnsibleModule(
        argument_spec={
            "manifest": {"type": "path", "default": "/etc/keepalived/hapair-vips.json"},
            "instances": {
                "type": "list",
                "elements": "dict",
                "options": {
                    "name": {"type": "str", "required": True},
                    "vips": {"type": "list", "elements": "str", "required": True},
                    "advert_int": {"type": "float", "default": 1.0},
                    "priority": {"type": "int", "default": 100},
                },
            },
            "state_dir": {"type": "path"},
            "pid_file": {"type": "path", "default": "/run/keepalived.pid"},
            "wait": {"type": "float", "default": 0},
        },
        supports_check_mode=True,
    )
    instances, state_dir = module.params["instances"], module.params["state_dir"]
    if instances is None:
        text = _read(module.params["manifest"])
        if text is None:
            module.fail_json(msg=f"no instances given and no manifest at {module.params['manifest']}: "
                                 "run the hapair.stack.keepalived role, or pass instances")
        try:
            manifest = json.loads(text)
        except ValueError as exc:
            module.fail_json(msg=f"cannot parse the manifest {module.params['manifest']}: {exc}")
        instances = manifest.get("instances", [])
        state_dir = state_dir or manifest.get("state_dir")
    state_dir = state_dir or DEFAULT_STATE_DIR

    start = time.monotonic()
    while True:
        result = read_status(module, instances, state_dir)
        waited = time.monotonic() - start
        if is_settled(result) or waited >= module.params["wait"]:
            break
        time.sleep(0.2)
    module.exit_json(changed=False, state_dir=state_dir, waited=round(waited, 3), **result)


if __name__ == "__main__":
    main()
