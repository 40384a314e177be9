# -*- coding: utf-8 -*-
# Copyright: hapair.stack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which alerts a failover drill scenario raised, and when, from the
notifications a webhook received.

The input is a JSON-lines file where a webhook receiver wrote each of
Alertmanager's notifications with the time it arrived (the lab's
lab/alert-sink.py writes exactly that):

    {"received": <unix time>, "payload": <Alertmanager's webhook JSON>}

A payload carries the alerts of one group, each with its ``status``
(firing or resolved), ``labels`` and ``fingerprint``. A notification is
repeated while its group changes, and both Alertmanagers of a pair may send
the same one when they cannot gossip: an alert is one fingerprint, firing
from the first notification that says so until the first that says it
resolved.

Everything here takes plain data and returns plain data (no Ansible), so
that a filter plugin can call it from the drill and pytest without a pair.
"""

from __future__ import annotations

import hashlib
import json
import re

_DURATION = re.compile(r"(\d+)(ms|s|m|h|d|w|y)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}

# Labels that say where an alert is, in the order the report names them.
PLACE_LABELS = ("node", "member", "unit", "vip", "vrrp_instance", "instance")


def duration_seconds(text):
    """A Prometheus duration (``1m30s``, ``15s``, ``0``) in seconds."""
    text = str(text).strip()
    if text in ("", "0"):
        return 0.0
    parts = _DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"not a Prometheus duration: {text!r}")
    return float(sum(int(n) * _UNIT_SECONDS[u] for n, u in parts))


def rule_durations(rules):
    """Alert name to its rule's ``for``, in seconds, from a parsed rule file."""
    out = {}
    for group in (rules or {}).get("groups") or []:
        for rule in group.get("rules") or []:
            if "alert" in rule:
                out[rule["alert"]] = duration_seconds(rule.get("for", "0s"))
    return out


def _fingerprint(alert):
    if alert.get("fingerprint"):
        return alert["fingerprint"]
    labels = json.dumps(alert.get("labels") or {}, sort_keys=True)
    return hashlib.sha256(labels.encode()).hexdigest()[:16]


def json_lines(text, what):
    """Each non-blank line of a JSON-lines text, parsed; a line that is not
    JSON is an error naming ``what`` and the line's number."""
    for number, line in enumerate((text or "").splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        try:
            yield json.loads(line)
        except ValueError as exc:
            raise ValueError(f"{what} {number} is not JSON: {exc}") from exc


def events(text):
    """The notifications' alerts, one event each, in the order they arrived:
    {received, status, alert, fingerprint, labels}. Lines that are not a
    notification (blank, or without alerts) are skipped; a line that is not
    JSON is an error (a receiver writing something else)."""
    out = []
    for record in json_lines(text, "alert log line"):
        received = record.get("received")
        payload = record.get("payload") or {}
        if received is None or not isinstance(payload, dict):
            continue
        for alert in payload.get("alerts") or []:
            labels = alert.get("labels") or {}
            out.append({
                "received": float(received),
                "status": alert.get("status") or payload.get("status"),
                "alert": labels.get("alertname", "?"),
                "fingerprint": _fingerprint(alert),
                "labels": labels,
            })
    out.sort(key=lambda e: e["received"])
    return out


def spans(alert_events):
    """Each stretch an alert was firing at the webhook: {alert, labels,
    fingerprint, fired, resolved (None: not yet)}, in the order they began."""
    open_spans, out = {}, []
    for event in alert_events:
        key = event["fingerprint"]
        if event["status"] == "firing":
            if key not in open_spans:
                span = {"alert": event["alert"], "labels": event["labels"], "fingerprint": key,
                        "fired": event["received"], "resolved": None}
                open_spans[key] = span
                out.append(span)
        elif event["status"] == "resolved" and key in open_spans:
            open_spans.pop(key)["resolved"] = event["received"]
    return out


def firing_at(alert_spans, when):
    """The spans firing at a moment (began at or before it, not resolved by then)."""
    return [s for s in alert_spans if s["fired"] <= when and (s["resolved"] is None or s["resolved"] > when)]


def place(labels):
    """Where an alert is, in a few words: ``ha1``, ``ha1 kafka``."""
    words = []
    for key in PLACE_LABELS:
        value = labels.get(key)
        if value and value not in words and not (key == "instance" and words):
            words.append(str(value))
    return " ".join(words)


def _tenths(seconds):
    """Seconds to a tenth, never -0.0 (a resolution a few ms before the
    recovery is "at" it, not before it)."""
    return round(seconds, 1) + 0.0


def scenario(alert_spans, inject, healthy=None, expected=(), deadlines=None, waited_until=None, resolve_wait=None,
             started=None):
    """What one scenario raised: the alerts whose firing reached the webhook
    at or after the fault (``inject``), with seconds from the fault to the
    webhook and from the pair being healthy again (``healthy``) to their
    resolution; alerts already firing at the fault (raised since ``started``,
    the drill's beginning, when given); and verdicts:

    - each ``expected`` alert name must have reached the webhook, within
      its ``deadlines`` entry (seconds after the fault) when it has one;
    - every alert the scenario raised must have resolved by
      ``waited_until`` (the end of the drill's wait for it, which lasted
      ``resolve_wait`` seconds after the recovery).
    """
    deadlines = deadlines or {}
    expected = list(expected or [])
    raised = [s for s in alert_spans if s["fired"] >= inject and (waited_until is None or s["fired"] <= waited_until)]
    before = [s for s in firing_at(alert_spans, inject) if started is None or s["fired"] >= started]
    fired = []
    for span in raised:
        resolved = span["resolved"]
        if waited_until is not None and resolved is not None and resolved > waited_until:
            resolved = None
        fired.append({
            "alert": span["alert"],
            "where": place(span["labels"]),
            "labels": span["labels"],
            "fired_after": _tenths(span["fired"] - inject),
            "resolved_after": _tenths(resolved - healthy) if resolved is not None and healthy is not None else None,
            "resolved": resolved is not None,
            "expected": span["alert"] in expected,
            "deadline": deadlines.get(span["alert"]) if span["alert"] in expected else None,
        })
    reasons = []
    for name in expected:
        first = next((f for f in fired if f["alert"] == name), None)
        deadline = deadlines.get(name)
        if first is None:
            reasons.append(f"{name} never reached the webhook" + (f" (due within {deadline:.0f} s)" if deadline else ""))
        elif deadline is not None and first["fired_after"] > deadline:
            reasons.append(f"{name} reached the webhook {first['fired_after']:.1f} s after the fault, over its {deadline:.0f} s")
    for item in fired:
        if not item["resolved"]:
            after = f" {resolve_wait:.0f} s after the recovery" if resolve_wait is not None else ""
            reasons.append(f"{item['alert']} ({item['where']}) not resolved{after}")
    return {
        "checked": True,
        "expected": expected,
        "fired": fired,
        "firing_before": [{"alert": s["alert"], "where": place(s["labels"])} for s in before],
        "missing": [n for n in expected if not any(f["alert"] == n for f in fired)],
        "reasons": reasons,
    }


def unresolved(alert_spans, since):
    """Alerts that began firing at or after ``since`` and have not resolved."""
    return [s for s in alert_spans if s["fired"] >= since and s["resolved"] is None]


def cell(alerts):
    """The report table's Alerts cell: ``HapairNginxDown ha2 32.1 s, resolved +38.0 s``."""
    if not alerts or not alerts.get("checked"):
        return "not checked"
    if not alerts["fired"]:
        return "none"
    parts = []
    for item in alerts["fired"]:
        text = f"{item['alert']} {item['where']} {item['fired_after']:.1f} s".replace("  ", " ")
        if item["resolved_after"] is not None and item["resolved_after"] < 0:
            text += ", resolved before the recovery"
        elif item["resolved_after"] is not None:
            text += f", resolved +{item['resolved_after']:.1f} s"
        elif not item["resolved"]:
            text += ", NOT resolved"
        parts.append(text)
    return "<br>".join(p.replace("|", "\\|") for p in parts)


def markdown(rows):
    """The report's Alerts table: per scenario each alert that reached the
    webhook (and each expected one that did not), with its deadline, the
    seconds from the fault to the webhook and from the recovery to its
    resolution."""
    lines = [
        "| Scenario | Alert | Where | Expected: due within (s) | At the webhook, after the fault (s) "
        "| Resolved, after the recovery (s) |",
        "| --- | --- | --- | ---: | ---: | ---: |",
    ]
    for row in rows:
        found = (row.get("result") or {}).get("alerts") or {}
        if not found.get("checked"):
            continue
        entries = []
        for item in found["fired"]:
            due = f"{item['deadline']:.0f}" if item.get("deadline") is not None else ("yes" if item["expected"] else "-")
            after = item["resolved_after"]
            resolved = (("before the recovery" if after < 0 else f"{after:.1f}") if after is not None
                        else ("yes" if item["resolved"] else "NOT resolved"))
            entries.append((item["alert"], item["where"], due, f"{item['fired_after']:.1f}", resolved))
        for name in found.get("missing") or []:
            entries.append((name, "-", "yes", "NEVER", "-"))
        for item in found.get("firing_before") or []:
            entries.append((item["alert"], item["where"], "-", "firing before the fault", "-"))
        if not entries:
            entries.append(("none", "-", "-", "-", "-"))
        for entry in entries:
            cells = [row["name"]] + [str(c).replace("|", "\\|") for c in entry]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
