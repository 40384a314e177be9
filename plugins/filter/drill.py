# -*- coding: utf-8 -*-
# Copyright: hapair.stack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The failover drill's measurements, for playbooks (playbooks/failover_drill.yml).

Thin wrappers around plugins/module_utils/drill.py: the logic lives there,
tested on its own; these only convert what a playbook holds (the probe's
file as text, registered mysql_query results) into its inputs.
"""

from __future__ import annotations

import json

from ansible.errors import AnsibleFilterError

from ansible_collections.hapair.stack.plugins.module_utils import drill
from ansible_collections.hapair.stack.plugins.module_utils import drill_alerts as alerts

DOCUMENTATION = r"""
name: drill_analyze
short_description: One failover drill scenario's result (RTO, lost writes, split brain, pass or fail)
version_added: 0.3.0
description:
  - Takes the probe's records (the text of its JSON lines file) and the canary rows read on every
    MySQL member afterwards, and returns what the scenario measured, with C(passed) and C(reasons)
    against the thresholds.
  - The same plugin file also provides C(drill_rows) (registered mysql_query results to rows per
    member), C(drill_seq_range) (the probe's first and last sequence numbers), C(drill_log_counts)
    (access-log lines lost and repeated for the probe's acknowledged writes), C(drill_promise) (what the
    pair's topology promises for a scenario, as thresholds), C(drill_records_text)
    (the probe's records with the scenario's marks), C(drill_markdown) (the report's table) and C(drill_timeline_svg) (one scenario's
    picture).
  - For the alerts a scenario raised, read from the JSON-lines file a webhook receiver wrote Alertmanager's notifications
    to, C(drill_alert_rules) (a parsed rule file to each alert's C(for) in seconds), C(drill_alert_deadlines) (the
    expected alerts' deadlines, their C(for) plus an allowance), C(drill_alerts) (what reached the
    webhook after the fault, and when it resolved, judged against the expected alerts and their deadlines),
    C(drill_alerts_unresolved) (the alerts raised since a moment and not resolved yet) and C(drill_alerts_markdown)
    (the report's Alerts table).
positional: _input, rows_by_member
options:
  _input:
    description: The probe's records, the text of its JSON lines file.
    type: str
    required: true
  rows_by_member:
    description: Member name to a mapping of sequence number to the member that committed it (see C(drill_rows)).
    type: dict
    required: true
  instance:
    description: The VRRP instance whose holder is checked for split brain.
    type: str
    default: web
  marks:
    description: The scenario's steps (inject, restore, healthy) as dicts with C(t) and C(event), on the probe's clock.
    type: list
    elements: dict
    default: []
  thresholds:
    description:
      - C(rto_seconds) and C(lost_writes); the scenario passes when each measure is at most its threshold.
      - C(double_master_seconds) allows a VIP on two nodes that ends by itself, before the restore, on exactly
        one node (on C(survivor) when named) within that many seconds; C(log_lines_lost) bounds the access-log
        lines lost.
    type: dict
    default: {}
  log_seqs:
    description: Sequence numbers of the access-log lines read back from Kafka, one per line; omitted, logs are not judged.
    type: list
    elements: int
  instances:
    description: Further VRRP instances (for example C(db)) whose double MASTER is measured and judged too.
    type: list
    elements: str
  problems:
    description: What else failed the scenario (the pair not healthy again in time, rows not read); it fails with them.
    type: list
    elements: str
  alerts:
    description: What C(drill_alerts) found for the scenario; its reasons fail the scenario. Omitted, alerts are not checked.
    type: dict
"""

EXAMPLES = r"""
- name: Measure the scenario
  ansible.builtin.set_fact:
    result: >-
      {{ lookup('ansible.builtin.file', probe_file)
         | hapair.stack.drill_analyze(rows | hapair.stack.drill_rows, thresholds={'rto_seconds': 5, 'lost_writes': 0}) }}

- name: The report's table
  ansible.builtin.debug:
    msg: "{{ [{'name': 'keepalived_stop', 'fault': 'keepalived stopped on ha1', 'result': result}] | hapair.stack.drill_markdown }}"
"""

RETURN = r"""
_value:
  description: The scenario's result.
  type: dict
  contains:
    rto_seconds: {description: Longest stretch with no successful write., type: float}
    lost_writes: {description: Acknowledged sequence numbers missing from any member., type: list, elements: int}
    lost_by_member: {description: The same per member., type: dict}
    committed_unacknowledged: {description: Writes that failed for the client yet were committed., type: list, elements: int}
    divergent_commits: {description: Sequence numbers committed by different primaries., type: list, elements: int}
    double_masters: {description: Stretches where two nodes held the VIP at once., type: list}
    double_master: {description: Per VRRP instance, seconds of double MASTER, whether it ended by itself and on which node., type: dict}
    logs: {description: Access-log lines expected, lost and repeated (null when not read)., type: dict}
    recovered: {description: Whether the pair was healthy again in time., type: bool}
    alerts:
      description:
        - The alerts at the webhook, with C(checked), C(expected), C(fired) (alert, where, fired_after, resolved_after,
          resolved), C(firing_before), C(missing) and C(reasons).
      type: dict
    split_brain: {description: Whether either of the two above was found., type: bool}
    writes_sent: {description: Writes the probe sent., type: int}
    writes_acknowledged: {description: Writes answered 200 with their own sequence number., type: int}
    vip_holders: {description: The VIP holder over time, as (from, to, node)., type: list}
    primaries: {description: The MySQL primary over time, as (from, to, node)., type: list}
    passed: {description: Whether every threshold was met., type: bool}
    reasons: {description: Why not, one sentence each., type: list, elements: str}
"""


def drill_rows(results, column_seq="seq", column_db="db"):
    """Registered mysql_query results (a loop over members, or a dict of
    member to result) -> {member: {seq: db}}.

    A loop result carries ``results``; each item names its member in
    ``item`` (a string, or a dict with ``name``) or ``ansible_loop_var``.
    A member whose query failed (or that answered no result) is left out:
    its rows are unknown, and the caller must not count them as lost.
    """
    if isinstance(results, dict) and "results" in results:
        items = results["results"]
        pairs = []
        for item in items:
            member = item.get("item")
            if isinstance(member, dict):
                member = member.get("name") or member.get("host")
            pairs.append((str(member), item))
    elif isinstance(results, dict):
        pairs = [(str(k), v) for k, v in results.items()]
    else:
        raise AnsibleFilterError("drill_rows expects a registered loop result or a dict of member to result")
    rows = {}
    for member, result in pairs:
        if (not isinstance(result, dict) or "query_result" not in result
                or result.get("failed") or result.get("skipped") or result.get("unreachable")):
            continue
        query_result = result.get("query_result") or [[]]
        table = query_result[0] if query_result else []
        rows[member] = {int(row[column_seq]): row.get(column_db) for row in table}
    return rows


def _records(text, marks):
    try:
        return drill.parse_records(drill_records_text(text, marks))
    except ValueError as exc:
        raise AnsibleFilterError(str(exc)) from exc


def drill_records_text(text, marks=None):
    """The probe's records with the scenario's marks appended, one JSON
    object a line (what the report keeps as <scenario>.jsonl)."""
    lines = [line for line in (text or "").splitlines() if line.strip()]
    lines += [json.dumps(dict(mark, type="mark"), sort_keys=True) for mark in marks or []]
    return "\n".join(lines) + ("\n" if lines else "")


def drill_analyze(text, rows_by_member, instance="web", thresholds=None, marks=None, log_seqs=None,
                  instances=None, problems=None, alerts=None):
    records = _records(text, marks)
    result = drill.analyze(records, rows_by_member or {}, instance=instance, thresholds=dict(thresholds or {}),
                           log_seqs=log_seqs, instances=instances, problems=problems, alerts=alerts)
    # Tuples do not survive Ansible's templating as such; lists do.
    for key in ("vip_holders", "primaries", "double_masters"):
        result[key] = [list(span) for span in result[key]]
    return result


def drill_log_counts(text, seqs_seen):
    """The probe's acknowledged writes against the access-log lines read
    back from Kafka (their sequence numbers, one per line): lost and
    repeated lines (see module_utils/drill.log_counts)."""
    return drill.log_counts(_records(text, None)["writes"], list(seqs_seen or []))


def drill_promise(promises, topology, scenario, preferred=None, lost_preferred=False, fault_seconds=0, base=None):
    """The thresholds and recovery (automatic or operator) the topology
    promises for a scenario (see module_utils/drill.promise)."""
    try:
        return drill.promise(promises or {}, topology, scenario, preferred=preferred, lost_preferred=bool(lost_preferred),
                             fault_seconds=int(fault_seconds), base=base)
    except (ValueError, TypeError, AttributeError) as exc:
        raise AnsibleFilterError(f"drill_promise: {exc}") from exc


def drill_seq_range(text):
    """The first and last sequence numbers the probe sent: {first, last}
    (both None when it sent nothing)."""
    seqs = [r["seq"] for r in _records(text, None)["writes"]]
    return {"first": min(seqs) if seqs else None, "last": max(seqs) if seqs else None}


def _alert_spans(text):
    try:
        return alerts.spans(alerts.events(text))
    except ValueError as exc:
        raise AnsibleFilterError(str(exc)) from exc


def drill_alert_rules(rules):
    """A parsed Prometheus rule file -> {alert name: its ``for`` in seconds}."""
    try:
        return alerts.rule_durations(rules)
    except (ValueError, AttributeError, TypeError) as exc:
        raise AnsibleFilterError(f"drill_alert_rules: {exc}") from exc


def drill_alert_deadlines(expected, rules, allowance):
    """Each expected alert's deadline after the fault, in seconds: its
    rule's ``for`` (rules: drill_alert_rules) plus the allowance."""
    unknown = [name for name in expected or [] if name not in (rules or {})]
    if unknown:
        raise AnsibleFilterError(f"drill_alerts_expected names alerts no rule defines: {', '.join(unknown)} "
                                 f"(known: {', '.join(sorted(rules or {}))})")
    return {name: float(rules[name]) + float(allowance) for name in expected or []}


def drill_alerts(text, inject, healthy=None, expected=None, deadlines=None, waited_until=None, resolve_wait=None,
                 started=None):
    """The alerts one scenario raised at the webhook (the text of the
    receiver's JSON-lines file), judged (see module_utils/drill_alerts.scenario)."""
    return alerts.scenario(
        _alert_spans(text), float(inject), healthy=None if healthy is None else float(healthy),
        expected=list(expected or []), deadlines={k: float(v) for k, v in (deadlines or {}).items()},
        waited_until=None if waited_until is None else float(waited_until),
        resolve_wait=None if resolve_wait is None else float(resolve_wait),
        started=None if started is None else float(started))


def drill_alerts_unresolved(text, since):
    """The alerts that began firing at or after a moment and have not resolved: [{alert, where}]."""
    return [{"alert": s["alert"], "where": alerts.place(s["labels"])}
            for s in alerts.unresolved(_alert_spans(text), float(since))]


def drill_alerts_markdown(rows):
    """The report's Alerts table (see module_utils/drill_alerts.markdown)."""
    try:
        return alerts.markdown(rows)
    except (KeyError, TypeError) as exc:
        raise AnsibleFilterError(f"drill_alerts_markdown: {exc}") from exc


def drill_markdown(rows):
    try:
        return drill.markdown_table(rows)
    except (KeyError, TypeError) as exc:
        raise AnsibleFilterError(f"drill_markdown: each row needs name, fault and result: {exc}") from exc


def drill_timeline_svg(text, name, result, width=900, marks=None):
    records = _records(text, marks)
    return drill.timeline_svg(name, result, records, width=width)


class FilterModule:
    """Failover drill filters."""

    def filters(self):
        return {
            "drill_analyze": drill_analyze,
            "drill_rows": drill_rows,
            "drill_records_text": drill_records_text,
            "drill_seq_range": drill_seq_range,
            "drill_log_counts": drill_log_counts,
            "drill_promise": drill_promise,
            "drill_markdown": drill_markdown,
            "drill_timeline_svg": drill_timeline_svg,
            "drill_alert_rules": drill_alert_rules,
            "drill_alert_deadlines": drill_alert_deadlines,
            "drill_alerts": drill_alerts,
            "drill_alerts_unresolved": drill_alerts_unresolved,
            "drill_alerts_markdown": drill_alerts_markdown,
        }
