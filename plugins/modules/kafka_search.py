#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: hapair.stack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: kafka_search
short_description: Wait until a Kafka topic holds a record containing a string, or collect a pattern's matches
version_added: 0.3.0
description:
  - Reads every partition of a topic, from the first record written at or after O(since_ms), until a
    record whose value contains O(needle) arrives or O(timeout) seconds pass. Used by the health gate to
    prove a request's access-log line reached Kafka and is readable from a given broker.
  - With O(pattern) instead, reads every record from O(since_ms) up to the topic's end (as it was when the
    reading began) and returns what the pattern captures in each, one entry per match (the failover drill
    counts the access-log lines of its requests this way, lost and repeated).
  - Read-only; it commits no consumer offsets.
author: hapair.stack maintainers (!UNKNOWN)
extends_documentation_fragment:
  - hapair.stack.kafka_client
  - hapair.stack.attributes.read_only
options:
  topic:
    description: The topic to search.
    type: str
    required: true
  needle:
    description: Text the record's value must contain. One of O(needle) and O(pattern) is required.
    type: str
  pattern:
    description:
      - A Python regular expression; its first group (the whole match when it has none) is collected from
        every record read.
    type: str
  since_ms:
    description: Epoch milliseconds; records written before are skipped. Default 60 seconds ago.
    type: int
  timeout:
    description: Seconds to wait for the record, or to read up to the topic's end.
    default: 10
"""

EXAMPLES = r"""
- name: Wait for the request's access-log line on this node's broker
  hapair.stack.kafka_search:
    bootstrap_servers: 192.0.2.12:9092
    topic: hapair-access
    needle: /?probe=1234
    timeout: 10
  register: found

- name: The sequence numbers of the access-log lines of writes, one per line
  hapair.stack.kafka_search:
    bootstrap_servers: 192.0.2.11:9092,192.0.2.12:9092
    topic: hapair-access
    pattern: '"uri":"/write[?]seq=([0-9]+)"'
    since_ms: 1764680000000
    timeout: 30
  register: lines
"""

RETURN = r"""
found:
  description: Whether a matching record arrived in time.
  type: bool
  returned: always
record:
  description: The matching record (partition, offset, timestamp, value, read_at_ms), or null.
  type: dict
  returned: always
matches:
  description: With O(pattern), what it captured, one entry per match, in the order read.
  type: list
  elements: str
  returned: when pattern is given
complete:
  description: With O(pattern), whether the topic was read up to its end before O(timeout).
  type: bool
  returned: when pattern is given
records_read:
  description: How many records were read.
  type: int
  returned: always
"""

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.hapair.stack.plugins.module_utils import kafka as k


def main():
    module = AnsibleModule(
        argument_spec={
            **k.client_argument_spec(timeout_default=10),
            "topic": {"type": "str", "required": True},
            "needle": {"type": "str"},
            "pattern": {"type": "str"},
            "since_ms": {"type": "int"},
        },
        required_one_of=[("needle", "pattern")],
        mutually_exclusive=[("needle", "pattern")],
        supports_check_mode=True,
    )
    k.require_client(module)
    p = module.params
    since = p["since_ms"] if p["since_ms"] is not None else int(time.time() * 1000) - 60000
    try:
        if p["pattern"] is not None:
            matches, seen, complete = k.collect_topic(p["bootstrap_servers"], p["topic"], p["pattern"], since,
                                                      p["timeout"])
            result = dict(found=bool(matches), record=None, matches=matches, complete=complete)
        else:
            record, seen = k.search_topic(p["bootstrap_servers"], p["topic"], p["needle"], since, p["timeout"])
            result = dict(found=record is not None, record=record)
    except Exception as exc:  # pylint: disable=broad-except
        module.fail_json(msg="Reading %s from %s: %s" % (p["topic"], p["bootstrap_servers"], exc))
    module.exit_json(changed=False, records_read=seen, **result)


if __name__ == "__main__":
    main()
