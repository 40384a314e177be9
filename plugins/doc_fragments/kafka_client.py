# -*- coding: utf-8 -*-
# Copyright: hapair.stack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection options of the Kafka modules (kafka_search, kafka_status, kafka_topics)."""

from __future__ import annotations


class ModuleDocFragment:
    """The options module_utils.kafka.client_argument_spec() adds, documented once.

    timeout has no default here: each module sets its own (kafka_topics waits
    longer than the status modules) in its own options, and may say what
    the wait covers; Ansible merges those keys into the ones below.
    """

    DOCUMENTATION = r"""
options:
  bootstrap_servers:
    description: The brokers' client addresses, C(host:port) separated by commas.
    type: str
    required: true
  timeout:
    description: Seconds to wait for each answer from Kafka.
    type: float
requirements:
  - kafka-python 2.0.2 or later on the host that runs the module (Debian's C(python3-kafka), installed by the
    C(hapair.stack.kafka) role; tested with Debian trixie's 2.0.2 and sid's 2.2).
"""
