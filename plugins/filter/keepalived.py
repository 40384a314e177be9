# -*- coding: utf-8 -*-
# Copyright: hapair.stack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plan keepalived's VRRP instances for one host, and check a pair's plans.

The keepalived role describes VRRP instances as data. ``keepalived_plan``
fills every instance with the host's defaults (interface, priority, timers,
unicast peers) and lists what is wrong with this host's inputs;
``keepalived_pair_problems`` compares the plans of a pair's nodes (priorities,
router ids, authentication, unicast peers). Both return messages that name
the variable and the host, so the preflight can fail before anything changes.
"""

from __future__ import annotations

import ipaddress
import re

DOCUMENTATION = r"""
name: keepalived_plan
short_description: Fill keepalived VRRP instances with a host's defaults and check them
version_added: 0.2.0
description:
  - Takes the list of VRRP instances (the role's C(keepalived_instances) plus
    C(keepalived_extra_instances)) and the host's defaults, and returns the
    instances with every key filled, and the problems found.
  - A per-host C(priority) may be given per instance as a mapping of
    inventory host name to priority; otherwise the host's default applies.
  - An instance may name a C(notify_master) script (an absolute path) and
    the C(notify_master_user) it runs as.
  - VRRP version 3 has no authentication (RFC 5798 removed it); an
    authentication password with version 3 is reported as a problem rather
    than silently dropped.
positional: _input
options:
  _input:
    description: The VRRP instances.
    type: list
    elements: dict
    required: true
  host:
    description: The inventory name of the host the plan is for.
    type: str
    required: true
  defaults:
    description: >-
      The host's defaults: interface, prefix, priority, advert_int, version,
      preempt, preempt_delay, auth_pass, unicast, unicast_src_ip,
      unicast_peers, track_processes, track_scripts.
    type: dict
    required: true
  variable:
    description: The variable name used in messages.
    type: str
    default: keepalived_instances
"""

EXAMPLES = r"""
- name: Plan this host's VRRP instances
  ansible.builtin.set_fact:
    plan: >-
      {{ keepalived_instances | hapair.stack.keepalived_plan(host=inventory_hostname,
         defaults={'interface': 'eth0', 'prefix': 24, 'priority': 150}) }}
"""

RETURN = r"""
_value:
  description: The plan.
  type: dict
  contains:
    instances:
      description: The instances, every key filled (vips as dicts of address and prefix).
      type: list
      elements: dict
    problems:
      description: What is wrong with this host's inputs; empty when all is well.
      type: list
      elements: str
"""

VRID_RANGE = range(1, 256)
# 255 is reserved for the owner of the address (RFC 5798 5.2.4); a VIP that
# belongs to no node has priorities 1..254.
PRIORITY_RANGE = range(1, 255)
AUTH_PASS_MAX = 8
AUTH_PASS_WORD = re.compile(r"^[A-Za-z0-9%&()*+,./:;<=>?@^_`|~\[\]$-]+$")


def _int(value):
    """Return value as an int, or None when it is not one."""
    if isinstance(value, bool):
        return None
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def _float(value):
    try:
        return float(str(value).strip())
    except (TypeError, ValueError):
        return None


def _bool(value):
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "yes", "on")


def _as_list(value):
    if value is None or value == "":
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def parse_vip(text, default_prefix):
    """Split 'address[/prefix]' into (address, prefix); raise ValueError when it is none."""
    text = str(text).strip()
    address, _sep, prefix = text.partition("/")
    ipaddress.ip_address(address)
    prefix = _int(prefix) if prefix else _int(default_prefix)
    if prefix is None:
        raise ValueError("no prefix")
    if not 1 <= prefix <= ipaddress.ip_address(address).max_prefixlen:
        raise ValueError("prefix out of range")
    return address, prefix


def plan_instance(index, instance, host, defaults, variable="keepalived_instances"):
    """Fill one instance from the host's defaults. Return (instance, problems)."""
    problems = []
    if not isinstance(instance, dict):
        return None, [f"{host}: {variable}[{index}] is not a mapping: {instance!r}"]
    name = str(instance.get("name", "")).strip()
    where = f"{host}: {variable}[{index}]" + (f" ({name})" if name else "")

    def pick(key):
        value = instance.get(key)
        return defaults.get(key) if value is None else value

    if not name or not name.replace("_", "").replace("-", "").isalnum():
        problems.append(f"{where}: name '{name}' must be a word of letters, digits, '_' or '-'")

    vrid = _int(instance.get("virtual_router_id"))
    if vrid not in VRID_RANGE:
        source = f" (keepalived_{name}_virtual_router_id)" if name in ("web", "db") else ""
        problems.append(f"{where}: virtual_router_id {instance.get('virtual_router_id')!r}{source} must be 1..255")

    priority = instance.get("priority")
    if isinstance(priority, dict):
        priority = priority.get(host, defaults.get("priority"))
    elif priority is None:
        priority = defaults.get("priority")
    priority_int = _int(priority)
    if priority_int not in PRIORITY_RANGE:
        problems.append(f"{where}: priority {priority!r} must be 1..254 (keepalived_priority or the instance's priority)")

    version = _int(pick("version"))
    if version not in (2, 3):
        problems.append(f"{where}: version {pick('version')!r} must be 2 or 3 (keepalived_vrrp_version)")

    advert_int = _float(pick("advert_int"))
    if advert_int is None or advert_int <= 0:
        problems.append(f"{where}: advert_int {pick('advert_int')!r} must be a positive number of seconds")
    elif version == 2 and advert_int != int(advert_int):
        problems.append(f"{where}: advert_int {advert_int} is sub-second, which needs VRRP version 3 (keepalived_vrrp_version: 3)")
    elif version == 3 and abs(advert_int * 100 - round(advert_int * 100)) > 1e-6:
        problems.append(f"{where}: advert_int {advert_int} must be a multiple of 0.01 s with VRRP version 3")

    auth_pass = str(pick("auth_pass") or "")
    if auth_pass and version == 3:
        problems.append(
            f"{where}: auth_pass is set but VRRP version 3 has no authentication (RFC 5798 removed it); "
            "unset keepalived_auth_pass, or use keepalived_vrrp_version: 2 (then advert_int must be whole seconds)"
        )
    if len(auth_pass) > AUTH_PASS_MAX:
        problems.append(f"{where}: auth_pass is {len(auth_pass)} characters; VRRP PASS authentication uses at most {AUTH_PASS_MAX}")
    elif auth_pass and not AUTH_PASS_WORD.match(auth_pass):
        # keepalived.conf has no quoting for it: never a character its parser reads.
        problems.append(
            f"{where}: auth_pass (keepalived_auth_pass) holds a space, quote, backslash, '#', '!', '{{', '}}' or "
            "a character outside printable ASCII; use up to 8 letters, digits or other punctuation"
        )

    preempt = _bool(pick("preempt"))
    preempt_delay = _int(pick("preempt_delay") or 0)
    if preempt_delay is None or preempt_delay < 0 or preempt_delay > 1000:
        problems.append(f"{where}: preempt_delay {pick('preempt_delay')!r} must be 0..1000 seconds")

    vips = []
    raw_vips = _as_list(instance.get("vips"))
    if not raw_vips:
        problems.append(f"{where}: vips is empty; give the instance at least one virtual IP")
    for text in raw_vips:
        try:
            address, prefix = parse_vip(text, defaults.get("prefix"))
        except ValueError:
            problems.append(
                f"{where}: vips holds {text!r}, which is not an IP address with an optional /prefix "
                "(1..32 for IPv4; keepalived_vip_prefix, hapair_node_prefix)"
            )
            continue
        vips.append({"address": address, "prefix": prefix, "cidr": f"{address}/{prefix}"})

    unicast = _bool(pick("unicast"))
    src = str(pick("unicast_src_ip") or "")
    peers = [str(peer) for peer in _as_list(pick("unicast_peers"))]
    if unicast:
        if not peers:
            problems.append(f"{where}: unicast is on but keepalived_unicast_peers is empty (no other node in the pair group?)")
        for peer in peers + ([src] if src else []):
            try:
                ipaddress.ip_address(peer)
            except ValueError:
                problems.append(f"{where}: unicast peer or source {peer!r} is not an IP address (keepalived_unicast_peers, hapair_node_address)")

    notify_master = str(instance.get("notify_master") or "")
    notify_user = str(instance.get("notify_master_user") or "")
    if notify_master and not notify_master.startswith("/"):
        problems.append(f"{where}: notify_master {notify_master!r} must be an absolute path")
    if notify_user and not notify_user.replace("_", "").replace("-", "").isalnum():
        problems.append(f"{where}: notify_master_user {notify_user!r} must be a user name")

    interface = str(pick("interface") or "")
    if not interface:
        problems.append(f"{where}: interface is empty (keepalived_interface)")

    planned = {
        "name": name,
        "virtual_router_id": vrid,
        "interface": interface,
        "priority": priority_int,
        "version": version,
        "advert_int": advert_int,
        "preempt": preempt,
        "preempt_delay": preempt_delay if preempt else 0,
        "auth_pass": auth_pass,
        "unicast": unicast,
        "unicast_src_ip": src if unicast else "",
        "unicast_peers": peers if unicast else [],
        "vips": vips,
        "track_processes": [str(x) for x in _as_list(pick("track_processes"))],
        "track_scripts": [str(x) for x in _as_list(pick("track_scripts"))],
        "track_files": [str(x) for x in _as_list(pick("track_files"))],
        "notify_master": notify_master,
        "notify_master_user": notify_user,
    }
    return planned, problems


def keepalived_plan(instances, host, defaults, variable="keepalived_instances", processes=None, scripts=None,
                    extra_from=None, extra_variable="keepalived_extra_instances", files=None):
    """Fill every instance with the host's defaults; return instances and problems.

    With extra_from, the instances from that index on came from extra_variable,
    and their problems name it."""
    planned, problems = [], []
    for index, instance in enumerate(_as_list(instances)):
        if extra_from is not None and index >= int(extra_from):
            item, found = plan_instance(index - int(extra_from), instance, host, defaults or {}, extra_variable)
        else:
            item, found = plan_instance(index, instance, host, defaults or {}, variable)
        problems.extend(found)
        if item is not None:
            planned.append(item)

    names = [item["name"] for item in planned]
    for name in sorted({n for n in names if names.count(n) > 1}):
        problems.append(f"{host}: {variable}: the name '{name}' is used by more than one instance")
    vrids = [item["virtual_router_id"] for item in planned if item["virtual_router_id"] is not None]
    for vrid in sorted({v for v in vrids if vrids.count(v) > 1}):
        users = ", ".join(item["name"] for item in planned if item["virtual_router_id"] == vrid)
        problems.append(f"{host}: {variable}: virtual_router_id {vrid} is used by more than one instance ({users}); each needs its own")
    addresses = [vip["address"] for item in planned for vip in item["vips"]]
    for address in sorted({a for a in addresses if addresses.count(a) > 1}):
        problems.append(f"{host}: {variable}: the VIP {address} is in more than one instance")

    if processes is not None or scripts is not None or files is not None:
        known_processes = {str(p.get("name")) for p in _as_list(processes) if isinstance(p, dict)}
        known_scripts = {str(s.get("name")) for s in _as_list(scripts) if isinstance(s, dict)}
        known_files = {str(f.get("name")) for f in _as_list(files) if isinstance(f, dict)}
        for item in planned:
            for track in item["track_files"]:
                if track not in known_files:
                    problems.append(
                        f"{host}: {variable} ({item['name']}): track_files names '{track}', which is not in keepalived_track_files"
                    )
            for track in item["track_processes"]:
                if track not in known_processes:
                    problems.append(
                        f"{host}: {variable} ({item['name']}): track_processes names '{track}', "
                        "which is not in keepalived_track_processes"
                    )
            for track in item["track_scripts"]:
                if track not in known_scripts:
                    problems.append(
                        f"{host}: {variable} ({item['name']}): track_scripts names '{track}', which is not in keepalived_scripts"
                    )
    return {"instances": planned, "problems": problems}


def keepalived_pair_problems(plans):
    """Compare the plans of a pair's nodes (mapping host -> plan dict or instance list)."""
    problems = []
    by_host = {}
    for host, plan in (plans or {}).items():
        instances = plan.get("instances", []) if isinstance(plan, dict) else plan
        by_host[host] = {item["name"]: item for item in instances}
    hosts = sorted(by_host)
    names = sorted({name for items in by_host.values() for name in items})
    for name in names:
        holders = [h for h in hosts if name in by_host[h]]
        missing = [h for h in hosts if h not in holders]
        if missing:
            problems.append(
                f"{', '.join(missing)}: keepalived_instances has no instance '{name}', which "
                f"{', '.join(holders)} has; both nodes of a pair need the same instances"
            )
            continue
        items = {h: by_host[h][name] for h in hosts}
        for key, label in (
            ("virtual_router_id", "virtual_router_id"),
            ("auth_pass", "auth_pass (keepalived_auth_pass)"),
            ("version", "version (keepalived_vrrp_version)"),
            ("advert_int", "advert_int (keepalived_advert_int)"),
            ("unicast", "unicast (keepalived_unicast)"),
        ):
            values = {h: items[h][key] for h in hosts}
            if len({repr(v) for v in values.values()}) > 1:
                shown = ", ".join(f"{h}={'<hidden>' if key == 'auth_pass' and v else v!r}" for h, v in values.items())
                problems.append(f"instance '{name}': {label} differs between the nodes ({shown}); set it once for the pair group")
        vips = {h: sorted(v["cidr"] for v in items[h]["vips"]) for h in hosts}
        if len({tuple(v) for v in vips.values()}) > 1:
            shown = ", ".join(f"{h}={v}" for h, v in vips.items())
            problems.append(f"instance '{name}': vips differ between the nodes ({shown})")
        priorities = {h: items[h]["priority"] for h in hosts}
        for priority in sorted({p for p in priorities.values() if list(priorities.values()).count(p) > 1}, key=str):
            same = [h for h, p in priorities.items() if p == priority]
            problems.append(
                f"instance '{name}': {', '.join(same)} have the same priority {priority}; give each node its own "
                "(keepalived_priority per host, or the instance's priority mapping)"
            )
        if all(items[h]["unicast"] for h in hosts):
            for host in hosts:
                for peer in hosts:
                    if peer == host:
                        continue
                    src = items[peer]["unicast_src_ip"]
                    if src not in items[host]["unicast_peers"]:
                        problems.append(
                            f"{host}: instance '{name}': keepalived_unicast_peers {items[host]['unicast_peers']} "
                            f"lacks {peer}'s address {src}; unicast peers must be symmetric"
                        )
                for peer_ip in items[host]["unicast_peers"]:
                    if peer_ip not in [items[h]["unicast_src_ip"] for h in hosts if h != host]:
                        problems.append(
                            f"{host}: instance '{name}': keepalived_unicast_peers holds {peer_ip}, "
                            "which is no other node's hapair_node_address; unicast peers must be symmetric"
                        )

    return problems


class FilterModule:
    """keepalived planning filters."""

    def filters(self):
        return {
            "keepalived_plan": keepalived_plan,
            "keepalived_pair_problems": keepalived_pair_problems,
        }
