#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: hapair.stack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: kafka_topics
short_description: Create or alter Kafka topics to match a declared list
version_added: 0.3.0
description:
  - Reads the cluster's topics and their settings with Kafka's admin API, then creates the
    missing topics, adds partitions where more are declared, and sets each topic's declared
    settings (C(min.insync.replicas), C(retention.ms) and any others).
  - Never deletes a topic, never removes partitions and never changes a replication factor in
    place; a declaration that asks for that fails with a message.
author: hapair.stack maintainers (!UNKNOWN)
extends_documentation_fragment:
  - hapair.stack.kafka_client
attributes:
  check_mode:
    support: full
    description: In check mode the plan is computed and returned, nothing is changed.
  diff_mode:
    support: none
    description: The returned RV(actions) say what changes.
  idempotent:
    support: full
    description: A second run with the same topics finds nothing to do.
options:
  topics:
    description: The declared topics (the kafka role's C(kafka_topics)).
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: Topic name.
        type: str
        required: true
      partitions:
        description: Number of partitions.
        type: int
        default: 1
      replication_factor:
        description: Number of copies.
        type: int
        default: 2
      min_insync_replicas:
        description: C(min.insync.replicas) of the topic.
        type: int
      retention_ms:
        description: C(retention.ms) of the topic.
        type: int
      configs:
        description: Other topic settings, by Kafka's names.
        type: dict
        default: {}
  timeout:
    default: 30
"""

EXAMPLES = r"""
- name: Declare the log topics
  hapair.stack.kafka_topics:
    bootstrap_servers: 192.0.2.11:9092,192.0.2.12:9092
    topics:
      - name: hapair-access
        partitions: 3
        replication_factor: 2
        min_insync_replicas: 1
        retention_ms: 604800000
"""

RETURN = r"""
actions:
  description: What was done (or would be, in check mode), one item per change.
  type: list
  elements: dict
  returned: always
  sample: [{"action": "create", "topic": "hapair-access", "partitions": 3, "replication_factor": 2,
            "configs": {"min.insync.replicas": "1", "retention.ms": "604800000"}}]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.hapair.stack.plugins.module_utils import kafka as k


def main():
    module = AnsibleModule(
        argument_spec={
            **k.client_argument_spec(timeout_default=30),
            "topics": {
                "type": "list", "elements": "dict", "required": True,
                "options": {
                    "name": {"type": "str", "required": True},
                    "partitions": {"type": "int", "default": 1},
                    "replication_factor": {"type": "int", "default": 2},
                    "min_insync_replicas": {"type": "int"},
                    "retention_ms": {"type": "int"},
                    "configs": {"type": "dict", "default": {}},
                },
            },
        },
        supports_check_mode=True,
    )
    k.require_client(module)
    params = module.params
    try:
        admin = k.connect(params["bootstrap_servers"], params["timeout"])
        names = [t["name"] for t in params["topics"]]
        current = k.parse_topics(k.fetch_topics(admin, None))
        configs = k.fetch_topic_configs(admin, [n for n in names if n in {t["name"] for t in current}])
        actions, errors = k.plan_topics(params["topics"], current, configs)
        if errors:
            module.fail_json(msg="; ".join(errors), actions=actions)
        if actions and not module.check_mode:
            k.apply_topic_actions(admin, actions, params["timeout"])
        admin.close()
    except Exception as exc:  # pylint: disable=broad-except
        module.fail_json(msg="Kafka at %s: %s" % (params["bootstrap_servers"], exc))
    module.exit_json(changed=bool(actions), actions=actions)


if __name__ == "__main__":
    main()
