"""Unit tests of the kafka_cluster_id filter."""

import base64
import uuid

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.hapair.stack.plugins.filter.kafka_cluster_id import kafka_cluster_id


def test_a_uuid_is_converted_as_kafka_prints_it():
    # Kafka's Uuid.toString() of 00000000-0000-0001-0000-000000000001.
    assert kafka_cluster_id("00000000-0000-0001-0000-000000000001") == "AAAAAAAAAAEAAAAAAAAAAQ"


def test_a_name_gives_the_same_id_every_time_and_distinct_names_differ():
    first = kafka_cluster_id("pair_lab/kafka")
    assert first == kafka_cluster_id("pair_lab/kafka")
    assert first != kafka_cluster_id("pair_shop/kafka")
    assert len(first) == 22
    raw = base64.urlsafe_b64decode(first + "==")
    assert uuid.UUID(bytes=raw).version == 5


@pytest.mark.parametrize("bad", ["", "   ", None, 42])
def test_empty_or_non_string_input_is_refused(bad):
    with pytest.raises(AnsibleFilterError, match="non-empty string"):
        kafka_cluster_id(bad)
