# -*- coding: utf-8 -*-
# Copyright: hapair.stack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read who holds a virtual IP and keepalived's VRRP state, as plain data.

Pure functions over the text of ``ip -j addr`` and of the state files the
keepalived role's notify script writes, so that unit tests need no host.
"""

from __future__ import annotations

import json

# States keepalived's notify script is called with.
VRRP_STATES = ("MASTER", "BACKUP", "FAULT", "STOP", "DELETED")
UNKNOWN = "UNKNOWN"


class VipError(ValueError):
    """Raised on input that cannot be read; the message says what to check."""


def parse_ip_addr(text):
    """Map each address of ``ip -j addr`` output to its interface and prefix.

    Returns {address: {"interface": name, "prefix": int, "family": "inet"|"inet6"}}.
    """
    try:
        links = json.loads(text or "[]")
    except ValueError as exc:
        raise VipError(f"cannot parse the output of 'ip -j addr' as JSON: {exc}") from exc
    if not isinstance(links, list):
        raise VipError("the output of 'ip -j addr' is not a list of links")
    found = {}
    for link in links:
        if not isinstance(link, dict):
            continue
        for info in link.get("addr_info") or []:
            address = info.get("local")
            if not address:
                continue
            found[address] = {
                "interface": link.get("ifname"),
                "prefix": info.get("prefixlen"),
                "family": info.get("family"),
            }
    return found


def parse_state(text):
    """Read one state file (JSON written by the notify script).

    Returns {"state", "since", "since_iso", "previous", "priority"}; a file
    that cannot be read gives state UNKNOWN rather than an error, since the
    notify script may be writing it at this moment (it renames atomically,
    so this is rare) or an operator may have edited it.
    """
    empty = {"state": UNKNOWN, "since": None, "since_iso": None, "previous": None, "priority": None}
    if not text:
        return empty
    try:
        data = json.loads(text)
    except ValueError:
        return empty
    if not isinstance(data, dict):
        return empty
    state = str(data.get("state", "")).upper()
    try:
        since = float(data.get("since"))
    except (TypeError, ValueError):
        since = None
    try:
        priority = int(data.get("priority"))
    except (TypeError, ValueError):
        priority = None
    return {
        "state": state if state in VRRP_STATES else UNKNOWN,
        "since": since,
        "since_iso": data.get("since_iso"),
        "previous": data.get("previous") or None,
        "priority": priority,
    }


def parse_pid(text):
    """The PID in a pid file's text, or None."""
    try:
        pid = int((text or "").strip())
    except ValueError:
        return None
    return pid if pid > 0 else None


def vip_address(vip):
    """Address of a VIP given as '192.0.2.1', '192.0.2.1/24' or {'address': ...}."""
    if isinstance(vip, dict):
        vip = vip.get("address") or vip.get("cidr") or ""
    return str(vip).split("/", 1)[0].strip()


def master_down_interval(advert_int, priority):
    """Seconds a BACKUP waits for adverts before it takes over (RFC 5798)."""
    advert = float(advert_int or 1)
    skew = ((256 - int(priority or 0)) / 256.0) * advert
    return 3 * advert + skew


def instance_status(instance, state, held, running, now):
    """Combine one configured instance with its state file and the held addresses."""
    vips = [vip_address(v) for v in instance.get("vips") or []]
    since = state.get("since")
    age = round(now - since, 3) if since is not None else None
    current = state.get("state", UNKNOWN) if running else "STOP"
    wait = master_down_interval(instance.get("advert_int"), instance.get("priority")) + 1
    settled = current == "MASTER" or (current == "BACKUP" and age is not None and age > wait)
    return {
        "name": instance.get("name"),
        "state": current,
        "recorded_state": state.get("state", UNKNOWN),
        "since": since,
        "since_iso": state.get("since_iso"),
        "age": age,
        "previous": state.get("previous"),
        "priority": state.get("priority"),
        "vips": vips,
        "holds_vips": bool(vips) and all(v in held for v in vips),
        "holds_any_vip": any(v in held for v in vips),
        "settled": settled,
    }


def vip_status(instances, addresses, states, running, now):
    """Everything vip_status returns, from plain data.

    instances: configured instances [{name, vips, advert_int, priority}]
    addresses: parse_ip_addr() output
    states:    {instance name: parse_state() output}
    running:   whether keepalived runs
    now:       the current time (epoch seconds)
    """
    results, vips = [], []
    for instance in instances or []:
        name = instance.get("name")
        state = states.get(name) or parse_state(None)
        results.append(instance_status(instance, state, addresses, running, now))
        for vip in instance.get("vips") or []:
            address = vip_address(vip)
            held = addresses.get(address)
            vips.append({
                "address": address,
                "instance": name,
                "held": held is not None,
                "interface": held["interface"] if held else None,
                "prefix": held["prefix"] if held else None,
            })
    return {
        "keepalived_running": bool(running),
        "instances": results,
        "vips": vips,
        "held": sorted(v["address"] for v in vips if v["held"]),
        "master": sorted(r["name"] for r in results if r["state"] == "MASTER"),
    }


def is_settled(status):
    """Whether keepalived runs and every instance has settled."""
    return bool(status.get("keepalived_running")) and all(i.get("settled") for i in status.get("instances") or [])


def pair_problems(statuses):
    """Check the vip_status results of a pair's nodes ({host: result}).

    Every VIP is held by exactly one node, that node's instance is MASTER,
    keepalived runs on every node, and no instance is in FAULT.
    """
    problems = []
    hosts = sorted(statuses)
    vips = {}
    for host in hosts:
        status = statuses[host] or {}
        if not status.get("keepalived_running"):
            problems.append(f"{host}: keepalived is not running (systemctl status keepalived)")
        for instance in status.get("instances") or []:
            if instance.get("state") == "FAULT":
                problems.append(
                    f"{host}: VRRP instance {instance.get('name')} is in FAULT: a tracked process or script "
                    "failed there (journalctl -u keepalived)"
                )
        for vip in status.get("vips") or []:
            entry = vips.setdefault(vip["address"], {"instance": vip.get("instance"), "holders": []})
            if vip.get("held"):
                entry["holders"].append(host)
    for address in sorted(vips):
        entry = vips[address]
        holders = entry["holders"]
        if not holders:
            problems.append(f"VIP {address} (instance {entry['instance']}) is held by no node of {', '.join(hosts)}")
            continue
        if len(holders) > 1:
            problems.append(
                f"VIP {address} (instance {entry['instance']}) is held by {len(holders)} nodes at once "
                f"({', '.join(holders)}): split brain, check that VRRP adverts pass between the nodes"
            )
        for host in holders:
            states = {i.get("name"): i.get("state") for i in statuses[host].get("instances") or []}
            state = states.get(entry["instance"], "UNKNOWN")
            if state != "MASTER":
                problems.append(f"{host} holds VIP {address} but its instance {entry['instance']} is {state}, not MASTER")
    return problems
