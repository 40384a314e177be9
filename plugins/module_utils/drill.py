# -*- coding: utf-8 -*-
# Copyright: hapair.stack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a failover drill measured, from the probe's records.

The probe (roles/drill/files/hapair-probe.py) writes one JSON object a line:

- ``{"type": "write", "seq": 7, "sent": t, "answered": t, "ok": true,
  "node": "ha1", "db": "ha2"}``: one canary write through the web VIP;
  ``db`` names the MySQL member that committed it, ``error`` says why a
  write failed.
- ``{"type": "state", "t": t, "node": "ha1", "ok": true,
  "vrrp": {"web": "MASTER"}, "held": {"web": true}, "gr_role": "PRIMARY"}``:
  one reading of a node's own view (keepalived's state per instance, whether
  the node's kernel holds the instance's VIPs, its Group Replication role).
- ``{"type": "mark", "t": t, "event": "inject"}``: a step of the scenario.

Everything here takes plain data and returns plain data, so that a filter
plugin can call it from a playbook and pytest can call it without a pair.
"""

from __future__ import annotations

import html

from ansible_collections.hapair.stack.plugins.module_utils import drill_alerts

MASTER = "MASTER"


def parse_records(text):
    """Split the probe's JSON lines into writes, states and marks."""
    writes, states, marks = [], [], []
    for record in drill_alerts.json_lines(text, "probe record"):
        kind = record.get("type")
        if kind == "write":
            writes.append(record)
        elif kind == "state":
            states.append(record)
        elif kind == "mark":
            marks.append(record)
    writes.sort(key=lambda r: r["sent"])
    states.sort(key=lambda r: r["t"])
    marks.sort(key=lambda r: r["t"])
    return {"writes": writes, "states": states, "marks": marks}


def longest_outage(writes, start=None, end=None):
    """The longest stretch with no successful write, in seconds.

    A stretch runs from one successful answer to the next (or from the
    window's edges). Returns (seconds, from, to).
    """
    if not writes and (start is None or end is None):
        return 0.0, None, None
    start = writes[0]["sent"] if start is None else start
    end = max(r.get("answered") or r["sent"] for r in writes) if end is None else end
    times = sorted(r["answered"] for r in writes if r.get("ok") and start <= r["answered"] <= end)
    edges = [start] + times + [end]
    best = (0.0, start, start)
    for left, right in zip(edges, edges[1:]):
        if right - left > best[0]:
            best = (right - left, left, right)
    return round(best[0], 3), best[1], best[2]


def lost_writes(writes, rows_by_member):
    """Acknowledged writes missing from each member: {member: [seq, ...]}."""
    acked = sorted(r["seq"] for r in writes if r.get("ok"))
    lost = {}
    for member, rows in sorted(rows_by_member.items()):
        present = set(int(seq) for seq in rows)
        lost[member] = [seq for seq in acked if seq not in present]
    return lost


def committed_unacknowledged(writes, rows_by_member):
    """Writes the client saw fail that a member holds anyway (a client error
    does not prove a write failed)."""
    failed = {r["seq"] for r in writes if not r.get("ok")}
    held = set()
    for rows in rows_by_member.values():
        held.update(int(seq) for seq in rows)
    return sorted(failed & held)


def divergent_commits(rows_by_member):
    """Sequence numbers committed by different primaries on different members.

    rows_by_member maps member -> {seq: committing server}.
    """
    seen = {}
    for rows in rows_by_member.values():
        for seq, server in rows.items():
            seen.setdefault(int(seq), set()).add(server)
    return sorted(seq for seq, servers in seen.items() if len(servers) > 1)


def holds_vip(record, instance):
    """Whether one reading says its node holds the instance's VIPs.

    The node's own addresses decide (what clients reach) when the reading
    has them; older readings only have keepalived's recorded state.
    """
    if not record.get("ok"):
        return False
    held = record.get("held")
    if isinstance(held, dict) and instance in held:
        return bool(held[instance])
    return (record.get("vrrp") or {}).get(instance) == MASTER


def master_intervals(states, instance):
    """Where each node is known to have held the VIPs: {node: [(from, to)]}.

    A node is known to hold them between two consecutive readings that both
    say so; a lone reading is a point. Between a reading that says so and
    one that says otherwise (or fails), nothing is known: counting that gap
    would report a split brain at every clean handover.
    """
    readings = {}
    for record in states:
        readings.setdefault(record["node"], []).append((record["t"], holds_vip(record, instance)))
    intervals = {}
    for node, marks in readings.items():
        spans = []
        for index, (t, is_master) in enumerate(marks):
            if not is_master:
                continue
            following = marks[index + 1] if index + 1 < len(marks) else None
            previous = marks[index - 1] if index > 0 else None
            if following and following[1]:
                spans.append((t, following[0]))
            elif not (previous and previous[1]):
                spans.append((t, t))
        intervals[node] = spans
    return intervals


def double_masters(states, instance):
    """Stretches where two nodes both held the VIPs of one VRRP instance.

    Returns [(from, to, [nodes])], overlapping findings merged.
    """
    intervals = master_intervals(states, instance)
    nodes = sorted(intervals)
    found = []
    for i, first in enumerate(nodes):
        for second in nodes[i + 1:]:
            for a_from, a_to in intervals[first]:
                for b_from, b_to in intervals[second]:
                    start, end = max(a_from, b_from), min(a_to, b_to)
                    if start <= end and (a_to > a_from or b_to > b_from or a_from == b_from):
                        found.append((start, end, [first, second]))
    found.sort()
    merged = []
    for start, end, pair in found:
        if merged and start <= merged[-1][1] and merged[-1][2] == pair:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]), pair)
        else:
            merged.append((start, end, pair))
    return merged


def holders(states, pick):
    """Who held a role over time: [(from, to, node or None)].

    ``pick(record)`` says whether a node's reading claims the role.
    """
    current = {}
    spans = []
    for record in states:
        current[record["node"]] = bool(record.get("ok")) and pick(record)
        claimants = sorted(node for node, has in current.items() if has)
        holder = claimants[0] if len(claimants) == 1 else ("+".join(claimants) if claimants else None)
        if spans and spans[-1][2] == holder:
            spans[-1][1] = record["t"]
        else:
            if spans:
                spans[-1][1] = record["t"]
            spans.append([record["t"], record["t"], holder])
    return [tuple(span) for span in spans]


def log_counts(writes, seqs_seen):
    """The log pipeline's record of the probe's acknowledged writes.

    seqs_seen holds the sequence number of every access-log line read back
    from Kafka (one entry per line, so a line shipped twice appears twice).
    Returns the acknowledged writes with no line (lost) and those with more
    than one ({seq: extra lines}, repeated); lines of writes the client saw
    fail are not counted either way.
    """
    acked = sorted(r["seq"] for r in writes if r.get("ok"))
    seen = {}
    for seq in seqs_seen:
        seen[int(seq)] = seen.get(int(seq), 0) + 1
    lost = [seq for seq in acked if seq not in seen]
    repeated = {seq: seen[seq] - 1 for seq in acked if seen.get(seq, 0) > 1}
    return {
        "expected": len(acked),
        "lost": lost,
        "repeated": repeated,
        "lines_lost": len(lost),
        "lines_repeated": sum(repeated.values()),
    }


def mark_time(marks, event):
    """When the scenario's first mark of this event happened, or None."""
    return next((m["t"] for m in marks if m.get("event") == event), None)


def settled_holder(holder_spans, start, end):
    """The node that held the VIP alone when the window [start, end] closed
    (the holder of its last stretch), or None (nobody, or two nodes). The
    stretch may be short: a survivor that restarts its server before it
    takes over (tiebreaker, fencing) holds the VIP for the end of the fault
    only, and that is the outcome the topology promises."""
    if end is None or end <= start:
        return None
    last = None
    for span_from, span_to, holder in holder_spans:
        if min(span_to, end) - max(span_from, start) > 0:
            last = holder
    return last if last and "+" not in last else None


def double_master_outcome(spans, holder_spans, restore=None):
    """How the stretches of two VIP holders ended.

    spans are double_masters() findings, holder_spans holders() of the same
    instance. Returns the seconds of double MASTER in all, whether the last
    stretch ended before the fault was undone (by itself: the pair fenced a
    side) and the node that held the VIP alone when the fault was undone
    (settled_holder; None: no node did).
    """
    if not spans:
        return {"seconds": 0.0, "ended_by_itself": True, "ended_on": None}
    seconds = round(sum(end - start for start, end, _unused in spans), 3)
    last_end = spans[-1][1]
    ended_on = settled_holder(holder_spans, last_end, restore)
    return {
        "seconds": seconds,
        "ended_by_itself": restore is not None and last_end < restore and ended_on is not None,
        "ended_on": ended_on,
    }


def _split_brain_verdicts(result, thresholds):
    """Why the VIP or the data was held by two sides beyond what is allowed.

    A write committed by two primaries always fails. Two VIP holders fail
    unless thresholds allow ``double_master_seconds``: then the stretches
    must end by themselves (before the restore) within that bound, on
    exactly one node, and on ``survivor`` when it is named.
    """
    verdicts = []
    if result["divergent_commits"]:
        verdicts.append(f"{len(result['divergent_commits'])} writes committed by two primaries")
    allowed = thresholds.get("double_master_seconds")
    for instance, outcome in result["double_master"].items():
        if not outcome["seconds"]:
            continue
        if allowed is None:
            verdicts.append(f"{instance} VIP on two nodes for {outcome['seconds']:.2f}s")
            continue
        if outcome["seconds"] > allowed:
            verdicts.append(f"{instance} VIP on two nodes for {outcome['seconds']:.2f}s, over {allowed}s")
        if not outcome["ended_by_itself"]:
            verdicts.append(f"{instance} VIP on two nodes did not end on one node before the restore")
        elif thresholds.get("survivor") and outcome["ended_on"] != thresholds["survivor"]:
            verdicts.append(f"{instance} VIP kept by {outcome['ended_on']}, not {thresholds['survivor']}")
    return verdicts


def analyze(records, rows_by_member, instance="web", thresholds=None, log_seqs=None, instances=None, problems=None,
            alerts=None):
    """Everything a scenario's row of the report says.

    rows_by_member maps each member to {seq: committing server} read from
    that member after the scenario; thresholds holds ``rto_seconds`` and
    ``lost_writes`` (pass when measured <= threshold), optionally
    ``double_master_seconds`` and ``survivor`` (see _split_brain_verdicts)
    and ``log_lines_lost``. log_seqs: the sequence numbers of the access-log
    lines read back from Kafka (None: not read). instances: the VRRP
    instances whose holders are checked (default: instance alone).
    problems: what else failed the scenario, one sentence each (the pair not
    healthy again in time, a member whose rows could not be read).
    alerts: what drill_alerts.scenario() found at the webhook (None: alerts
    not checked); its reasons fail the scenario.
    """
    thresholds = thresholds or {}
    writes, states, marks = records["writes"], records["states"], records["marks"]
    seconds, out_from, out_to = longest_outage(writes)
    lost = lost_writes(writes, {m: rows.keys() for m, rows in rows_by_member.items()})
    lost_any = sorted(set(seq for seqs in lost.values() for seq in seqs))
    divergent = divergent_commits(rows_by_member)
    masters = double_masters(states, instance)
    accepted_by = sorted({r.get("db") for r in writes if r.get("ok") and r.get("db")})
    vip_holders = holders(states, lambda r: holds_vip(r, instance))
    restore = mark_time(marks, "restore")
    outcomes = {instance: double_master_outcome(masters, vip_holders, restore)}
    for other in instances or []:
        if other != instance:
            outcomes[other] = double_master_outcome(
                double_masters(states, other), holders(states, lambda r, o=other: holds_vip(r, o)), restore)
    result = {
        "writes_sent": len(writes),
        "writes_acknowledged": sum(1 for r in writes if r.get("ok")),
        "writes_failed": sum(1 for r in writes if not r.get("ok")),
        "rto_seconds": seconds,
        "outage": {"from": out_from, "to": out_to},
        "lost_writes": lost_any,
        "lost_by_member": lost,
        "committed_unacknowledged": committed_unacknowledged(
            writes, {m: rows.keys() for m, rows in rows_by_member.items()}
        ),
        "divergent_commits": divergent,
        "double_masters": masters,
        "double_master": outcomes,
        "split_brain": bool(divergent or masters),
        "primaries_seen": accepted_by,
        "vip_holders": vip_holders,
        "primaries": holders(states, lambda r: r.get("gr_role") == "PRIMARY"),
        "marks": marks,
        "logs": None if log_seqs is None else log_counts(writes, log_seqs),
        "recovered": not problems,
        "alerts": alerts if alerts is not None else {"checked": False},
    }
    verdicts = list(problems or [])
    if "rto_seconds" in thresholds and seconds > thresholds["rto_seconds"]:
        verdicts.append(f"RTO {seconds:.2f}s over {thresholds['rto_seconds']}s")
    if len(lost_any) > thresholds.get("lost_writes", 0):
        verdicts.append(f"{len(lost_any)} acknowledged writes lost")
    verdicts += _split_brain_verdicts(result, thresholds)
    if result["writes_acknowledged"] == 0:
        verdicts.append("no write succeeded")
    if result["logs"] and "log_lines_lost" in thresholds and result["logs"]["lines_lost"] > thresholds["log_lines_lost"]:
        verdicts.append(f"{result['logs']['lines_lost']} access-log lines lost")
    verdicts += (alerts or {}).get("reasons") or []
    result["passed"] = not verdicts
    result["reasons"] = verdicts
    return result


def promise(promises, topology, scenario, preferred=None, lost_preferred=False, fault_seconds=0, base=None):
    """What the pair's topology promises for one scenario, as thresholds.

    promises maps each topology to ``scenarios`` (scenario -> entry) and
    ``preferred_lost`` (entries that replace those when the node the
    scenario loses is the preferred node). An entry holds thresholds
    (``rto_seconds``, ``double_master_seconds``, ``survivor``, ...),
    ``recovery`` (automatic, or operator: the drill does the operator's
    step) and ``plus_fault`` (the RTO bound counts the time the fault is
    held). base: thresholds the entry adds to (a scenario the topology
    makes no promise about keeps them). ``survivor: preferred`` names the
    preferred node. Returns the thresholds with ``recovery`` and
    ``topology``.
    """
    if topology not in promises:
        raise ValueError(f"no promises for topology {topology!r} (known: {', '.join(sorted(promises))})")
    chosen = promises[topology] or {}
    entry = dict((chosen.get("scenarios") or {}).get(scenario) or {})
    if lost_preferred:
        entry.update((chosen.get("preferred_lost") or {}).get(scenario) or {})
    out = dict(base or {})
    out.update({key: value for key, value in entry.items() if key != "plus_fault"})
    if entry.get("plus_fault") and "rto_seconds" in out:
        out["rto_seconds"] = out["rto_seconds"] + fault_seconds
    if out.get("survivor") == "preferred":
        out["survivor"] = preferred
    out.setdefault("recovery", "automatic")
    out["topology"] = topology
    return out


def _logs_cell(logs):
    if not logs:
        return "not read"
    return f"{logs['lines_lost']} / {logs['lines_repeated']}"


def _double_master_cell(result):
    seconds = [o["seconds"] for o in (result.get("double_master") or {}).values() if o["seconds"]]
    return f"{max(seconds):.2f}" if seconds else "0"


def markdown_table(rows):
    """The report's table: one row per scenario. The Alerts column (each
    alert at the webhook, seconds after the fault, and its resolution after
    the recovery) is there when a scenario checked them."""
    with_alerts = any((row["result"].get("alerts") or {}).get("checked") for row in rows)
    lines = [
        "| Scenario | Fault | Recovery | RTO (s) | Bound (s) | Writes acked / sent | Lost (RPO) | Split brain "
        "| Double MASTER (s) | Log lines lost / repeated |" + (" Alerts at the webhook |" if with_alerts else "") + " Result |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | --- | ---: | ---: |" + (" --- |" if with_alerts else "") + " --- |",
    ]
    for row in rows:
        result = row["result"]
        judged = row.get("judged") or {}
        verdict = "pass" if result["passed"] else "FAIL: " + "; ".join(result["reasons"])
        lines.append(
            "| {name} | {fault} | {recovery} | {rto:.2f} | {bound} | {acked} / {sent} | {lost} | {sb} | {dm} "
            "| {logs} |{alerts} {verdict} |".format(
                name=row["name"],
                fault=row["fault"].replace("|", "\\|"),
                recovery=judged.get("recovery", "automatic"),
                rto=result["rto_seconds"],
                bound=judged.get("rto_seconds", "-"),
                acked=result["writes_acknowledged"],
                sent=result["writes_sent"],
                lost=len(result["lost_writes"]),
                sb="yes" if result["split_brain"] else "no",
                dm=_double_master_cell(result),
                logs=_logs_cell(result.get("logs")),
                alerts=" " + drill_alerts.cell(result.get("alerts")) + " |" if with_alerts else "",
                verdict=verdict,
            )
        )
    return "\n".join(lines)


_COLOURS = ["#1f77b4", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2"]


def timeline_svg(name, result, records, width=900):
    """A picture of one scenario: writes, VIP holder and primary over time."""
    writes = records["writes"]
    times = [r["sent"] for r in writes] + [s["t"] for s in records["states"]] + [m["t"] for m in records["marks"]]
    if not times:
        times = [0.0, 1.0]
    t0, t1 = min(times), max(times)
    span = max(t1 - t0, 1e-3)
    left, right, lane = 120, 20, 30
    plot = width - left - right
    height = 60 + 3 * (lane + 10) + 30

    def x(t):
        return left + (t - t0) / span * plot

    nodes = sorted({s["node"] for s in records["states"]})
    colour = {node: _COLOURS[i % len(_COLOURS)] for i, node in enumerate(nodes)}
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'font-family="sans-serif" font-size="12">',
        f'<text x="10" y="20" font-size="14" font-weight="bold">{html.escape(name)}: '
        f'RTO {result["rto_seconds"]:.2f} s, lost {len(result["lost_writes"])}, '
        f'split brain {"yes" if result["split_brain"] else "no"}</text>',
    ]
    lanes = [("writes", 40), ("VIP holder", 40 + lane + 10), ("primary", 40 + 2 * (lane + 10))]
    for label, top in lanes:
        out.append(f'<text x="10" y="{top + 19}">{label}</text>')
        out.append(f'<rect x="{left}" y="{top}" width="{plot}" height="{lane}" fill="#f4f4f4"/>')
    top = lanes[0][1]
    for r in writes:
        fill = "#2ca02c" if r.get("ok") else "#d62728"
        out.append(f'<rect x="{x(r["sent"]):.1f}" y="{top}" width="1.5" height="{lane}" fill="{fill}"/>')
    for (label, top), spans in zip(lanes[1:], (result["vip_holders"], result["primaries"])):
        for start, end, holder in spans:
            if holder is None:
                continue
            fill = colour.get(holder, "#d62728")  # two holders at once: red
            out.append(
                f'<rect x="{x(start):.1f}" y="{top}" width="{max(x(end) - x(start), 1):.1f}" '
                f'height="{lane}" fill="{fill}"><title>{html.escape(holder)}</title></rect>'
            )
    for mark in records["marks"]:
        mx = x(mark["t"])
        out.append(f'<line x1="{mx:.1f}" y1="35" x2="{mx:.1f}" y2="{height - 25}" stroke="#000" stroke-dasharray="4 3"/>')
        out.append(f'<text x="{mx + 3:.1f}" y="{height - 12}">{html.escape(str(mark["event"]))}</text>')
    legend = " ".join(f'<tspan fill="{c}">&#9632; {html.escape(n)}</tspan>' for n, c in colour.items())
    out.append(f'<text x="{width - right}" y="20" text-anchor="end">{span:.1f} s shown; {legend}</text>')
    out.append("</svg>")
    return "\n".join(out)
