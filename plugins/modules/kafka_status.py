#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: hapair.stack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: kafka_status
short_description: Report a Kafka KRaft cluster's brokers, quorum, topics and under-replicated partitions
version_added: 0.3.0
description:
  - Asks the brokers, with Kafka's own admin protocol, for the registered brokers (Metadata),
    the KRaft quorum of the metadata log (DescribeQuorum, with the leader, epoch, voters and observers
    with their log end offsets, lag behind the leader and time since they last caught up), and
    every topic's partitions with their leader, replicas and in-sync replicas.
  - Returns a verdict, RV(healthy), with the reasons when it is false, so a playbook asserts on
    one value and shows the reasons.
  - Read-only; nothing in the cluster changes.
  - Uses kafka-python (Debian's C(python3-kafka), installed by the C(hapair.stack.kafka) role), which
    is pure Python and packaged by Debian; DescribeQuorum, which no Python admin client wraps, is
    encoded by the collection and sent with kafka-python's public client, so Debian trixie's 2.0.2
    works as well as sid's 2.2.
author: hapair.stack maintainers (!UNKNOWN)
extends_documentation_fragment:
  - hapair.stack.kafka_client
  - hapair.stack.attributes.read_only
options:
  expected_brokers:
    description: Broker ids that must be registered; a missing one makes the verdict false.
    type: list
    elements: int
    default: []
  expected_topics:
    description: Topics that must exist.
    type: list
    elements: str
    default: []
  include_internal:
    description: Whether to report internal topics (C(__consumer_offsets)) too.
    type: bool
    default: false
  max_voter_lag:
    description: Records a voter may lag the quorum leader before the verdict is false.
    type: int
    default: 1000
  timeout:
    description: Seconds to wait for each answer. Without a quorum leader, DescribeQuorum waits this long.
    default: 10
"""

EXAMPLES = r"""
- name: Read the cluster's state
  hapair.stack.kafka_status:
    bootstrap_servers: 192.0.2.11:9092,192.0.2.12:9092
    expected_brokers: [1, 2]
    expected_topics: [hapair-access]
  register: kafka

- name: Fail when the cluster is not healthy
  ansible.builtin.assert:
    that: kafka.healthy
    fail_msg: "{{ kafka.reasons | join('; ') }}"
"""

RETURN = r"""
healthy:
  description: True when every expected broker is registered, the quorum has a leader and no voter lags, and no partition is offline or under-replicated.
  type: bool
  returned: always
reasons:
  description: Why RV(healthy) is false, one sentence each.
  type: list
  elements: str
  returned: always
  sample: ["hapair-access-0 is under-replicated (replicas [1, 2], in sync [1])"]
cluster_id:
  description: The cluster id.
  type: str
  returned: always
brokers:
  description: The registered brokers.
  type: list
  elements: dict
  returned: always
  sample: [{"id": 1, "host": "192.0.2.11", "port": 9092, "rack": null}]
quorum:
  description: The KRaft quorum of the metadata log.
  type: dict
  returned: always
  contains:
    leader_id:
      description: The quorum leader (the active controller), null when there is none.
      type: int
    leader_epoch:
      description: The leader's epoch.
      type: int
    high_watermark:
      description: The metadata log's high watermark.
      type: int
    voters:
      description: Each voter's id, log end offset, lag (records behind the leader) and milliseconds since it last caught up.
      type: list
      elements: dict
    observers:
      description: The same for observers (brokers that are not voters).
      type: list
      elements: dict
    error:
      description: Why the quorum could not be described (for example no leader to answer), when it could not.
      type: str
topics:
  description: Topics with their partitions (leader, replicas, isr, under_replicated, offline).
  type: list
  elements: dict
  returned: always
under_replicated:
  description: The under-replicated partitions, as C(topic-partition).
  type: list
  elements: str
  returned: always
"""

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.hapair.stack.plugins.module_utils import kafka as k


def main():
    module = AnsibleModule(
        argument_spec={
            **k.client_argument_spec(timeout_default=10),
            "expected_brokers": {"type": "list", "elements": "int", "default": []},
            "expected_topics": {"type": "list", "elements": "str", "default": []},
            "include_internal": {"type": "bool", "default": False},
            "max_voter_lag": {"type": "int", "default": 1000},
        },
        supports_check_mode=True,
    )
    k.require_client(module)
    p = module.params
    try:
        admin = k.connect(p["bootstrap_servers"], p["timeout"])
        cluster = k.parse_cluster(k.fetch_cluster(admin))
        topics = k.parse_topics(k.fetch_topics(admin, None), p["include_internal"])
    except Exception as exc:  # pylint: disable=broad-except
        module.fail_json(msg="No Kafka broker answered at %s: %s" % (p["bootstrap_servers"], exc))
    try:
        quorum = k.parse_quorum(k.fetch_quorum(p["bootstrap_servers"], p["timeout"]), int(time.time() * 1000))
    except Exception as exc:  # pylint: disable=broad-except
        quorum = k.quorum_error(exc)
    admin.close()
    healthy, reasons = k.verdict(cluster, quorum, topics, p["expected_brokers"], p["expected_topics"],
                                 p["max_voter_lag"])
    module.exit_json(changed=False, healthy=healthy, reasons=reasons, cluster_id=cluster["cluster_id"],
                     brokers=cluster["brokers"], quorum=quorum, topics=topics,
                     under_replicated=k.under_replicated(topics))


if __name__ == "__main__":
    main()
