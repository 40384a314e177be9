# -*- coding: utf-8 -*-
# Copyright: hapair.stack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Turn a name or a UUID into a Kafka cluster id.

Kafka formats its KRaft storage with a cluster id written as the unpadded
base64url form of a 16-byte UUID (22 characters). The kafka role derives a
stable id from the pair's group name, so that every run, and every node of
the pair, formats with the same id and no id has to be stored anywhere.
"""

from __future__ import annotations

import base64
import re
import uuid

from ansible.errors import AnsibleFilterError

DOCUMENTATION = r"""
name: kafka_cluster_id
short_description: A stable Kafka cluster id from a name or a UUID
version_added: 0.1.0
description:
  - Returns the 22-character base64url form of a UUID, as C(kafka-storage random-uuid) prints it.
  - A UUID string is converted as it is; any other string is first turned into a name-based
    UUID (version 5), so the same name always gives the same id.
positional: _input
options:
  _input:
    description: A UUID, or any non-empty name.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Derive the pair's cluster id
  ansible.builtin.debug:
    msg: "{{ 'pair_shop/kafka' | hapair.stack.kafka_cluster_id }}"
"""

RETURN = r"""
_value:
  description: The cluster id, 22 characters of base64url without padding.
  type: str
"""

# Names are turned into UUIDs in this collection's own namespace.
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://github.com/hapair/stack/kafka")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$")


def kafka_cluster_id(value):
    """Return Kafka's base64url form of value (a UUID, or a name hashed into one)."""
    if not isinstance(value, str) or not value.strip():
        raise AnsibleFilterError(f"kafka_cluster_id needs a non-empty string, got {value!r}")
    value = value.strip()
    the_uuid = uuid.UUID(value) if _UUID.match(value) else uuid.uuid5(NAMESPACE, value)
    return base64.urlsafe_b64encode(the_uuid.bytes).decode("ascii").rstrip("=")


class FilterModule:
    """The kafka_cluster_id filter."""

    def filters(self):
        return {"kafka_cluster_id": kafka_cluster_id}
