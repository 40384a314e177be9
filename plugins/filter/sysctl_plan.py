# -*- coding: utf-8 -*-
# Copyright: hapair.stack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plan kernel parameters for the sysctl role.

The role describes kernel parameters as layered dicts (role defaults, the
user's group-level dict, the user's host-level dict). This filter merges the
layers, checks every key and value, and splits the result into what is
applied on this host and what is left alone and why, so that the tasks only
loop over a plain list.
"""

from __future__ import annotations

import re

from ansible.errors import AnsibleFilterError

DOCUMENTATION = r"""
name: sysctl_plan
short_description: Merge, check and split kernel parameters for the sysctl role
version_added: 0.1.0
description:
  - Merges ordered layers of kernel parameters (later layers win; a C(null)
    value removes the key), checks each key's name and value, and splits the
    result into keys to apply and keys to leave alone.
  - Inside a container, keys outside the node's own namespaces
    (C(vm.*), C(fs.*), most C(kernel.*)) are left alone, since writing them
    would change the kernel of the machine that runs the container.
positional: _input
options:
  _input:
    description: Ordered mapping of layer name (the variable it came from) to a dict of key to value.
    type: dict
    required: true
  in_container:
    description: Whether the host is a container sharing its kernel with other systems.
    type: bool
    default: false
  namespaced:
    description: Key prefixes that belong to the container's own namespaces.
    type: list
    elements: str
    default: [net., kernel.shm, kernel.msg, kernel.sem, kernel.hostname, kernel.domainname]
"""

EXAMPLES = r"""
- name: Plan the parameters
  ansible.builtin.set_fact:
    plan: >-
      {{ {'sysctl_base_settings': sysctl_base_settings,
          'sysctl_settings': sysctl_settings}
         | hapair.stack.sysctl_plan(in_container=true) }}
"""

RETURN = r"""
_value:
  description: The plan.
  type: dict
  contains:
    apply:
      description: Keys to write and set live, each with C(key), C(value), C(path) and C(origin).
      type: list
      elements: dict
    skipped:
      description: Keys left alone, each with C(key), C(value), C(origin) and C(reason).
      type: list
      elements: dict
"""

# Keys that live in a container's own namespaces (network, IPC, UTS); every
# other key is global to the kernel the container shares with its host.
DEFAULT_NAMESPACED = (
    "net.",
    "kernel.shm",
    "kernel.msg",
    "kernel.sem",
    "kernel.hostname",
    "kernel.domainname",
)

# A dotted key: lowercase top-level tree, then components made of the
# characters /proc/sys names use ('/' stands for a '.' inside a component,
# as in net.ipv4.conf.eth0/100.rp_filter).
_KEY_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[A-Za-z0-9_@:/+-]+)+$")


def _bad(layer, key, why):
    return AnsibleFilterError(f"{layer}: sysctl key '{key}' {why}")


def normalize_value(layer, key, value):
    """Return the value as the kernel prints it, or raise naming the key."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        text = " ".join(value.split())
        if not text:
            raise _bad(layer, key, "has an empty value; give a value or null to drop the key")
        if "\n" in value.strip():
            raise _bad(layer, key, f"has value {value!r}, which cannot be written to a sysctl file")
        return text
    kind = "a dict" if isinstance(value, dict) else "a list" if isinstance(value, (list, tuple)) else type(value).__name__
    raise _bad(layer, key, f"has {kind} as its value; give a string or a number")


def key_path(key):
    """Map a dotted key to its file under /proc/sys ('/' in a key is a '.')."""
    return "/proc/sys/" + key.translate(str.maketrans("./", "/."))


def merge_layers(layers):
    """Merge ordered layers; return {key: (value, origin)} with checked values."""
    if not isinstance(layers, dict):
        raise AnsibleFilterError("sysctl_plan expects a dict of layer name to dict of settings")
    merged = {}
    for layer, settings in layers.items():
        if settings is None:
            continue
        if not isinstance(settings, dict):
            raise AnsibleFilterError(f"{layer} must be a dict of sysctl key to value, not {type(settings).__name__}")
        for key, value in settings.items():
            if not isinstance(key, str) or not _KEY_RE.match(key):
                raise _bad(layer, key, "is not a sysctl key name (expected dotted form such as net.core.somaxconn)")
            if value is None:
                merged.pop(key, None)
                continue
            merged[key] = (normalize_value(layer, key, value), layer)
    return merged


def is_namespaced(key, namespaced=DEFAULT_NAMESPACED):
    return any(key.startswith(prefix) for prefix in namespaced)


def sysctl_plan(layers, in_container=False, namespaced=None):
    """Merge layers and split the keys into those to apply and those skipped."""
    prefixes = tuple(namespaced) if namespaced else DEFAULT_NAMESPACED
    plan = {"apply": [], "skipped": []}
    for key, (value, origin) in sorted(merge_layers(layers).items()):
        item = {"key": key, "value": value, "origin": origin, "path": key_path(key)}
        if in_container and not is_namespaced(key, prefixes):
            item["reason"] = (
                "host-global key: inside a container it would change the kernel "
                "of the machine running the container; set it there"
            )
            plan["skipped"].append(item)
        else:
            plan["apply"].append(item)
    return plan


def sysctl_drift(apply, live_lines):
    """Return the planned items whose live value differs.

    ``live_lines`` is the output of ``sysctl -n KEY...`` for the keys of
    ``apply`` in the same order; the kernel separates fields with tabs,
    which compare equal to the plan's single spaces.
    """
    live = list(live_lines or [])
    if len(live) != len(apply):
        raise AnsibleFilterError(
            f"sysctl printed {len(live)} values for {len(apply)} keys; cannot compare them"
        )
    return [item for item, now in zip(apply, live) if " ".join(str(now).split()) != item["value"]]


class FilterModule:
    """hapair.stack sysctl filters."""

    def filters(self):
        return {"sysctl_plan": sysctl_plan, "sysctl_drift": sysctl_drift}
