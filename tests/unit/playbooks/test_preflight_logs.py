"""playbooks/preflight.yml rejects bad Kafka and log-shipper inputs before
any host is touched, naming the host and the variable to fix."""

import pytest
from ansible_collections.hapair.stack.tests.unit.playbooks.inventories import pair_inventory, witness_inventory


def test_a_pair_with_a_witness_gets_distinct_kafka_node_ids(run_playbook):
    rc, out = run_playbook("preflight.yml", witness_inventory())
    assert rc == 0, out


@pytest.mark.parametrize(
    "pair_vars, message",
    [
        ({"kafka_archive_checksum": ""}, "kafka_archive_checksum is ''. Installing from"),
        ({"flume_archive_checksum": "md5:abc"}, "flume_archive_checksum is 'md5:abc'"),
        ({"kafka_cluster_id": "not-a-cluster-id"}, "kafka_cluster_id is 'not-a-cluster-id'; set 22 characters of base64url"),
        ({"kafka_client_port": 9093}, "kafka_controller_port is 9093, which is also kafka_client_port; every service of a node needs its own port"),
        ({"kafka_topics": [{"name": "logs", "replication_factor": 3}]},
         "a replication_factor between 1 and the 2 brokers"),
        ({"kafka_topics": [{"name": "logs", "replication_factor": 2, "min_insync_replicas": 3}]},
         "min_insync_replicas no larger than the replication factor"),
        ({"flume_channel": "memory"}, "flume_channel is 'memory'; choose one of file, kafka"),
        ({"flume_sources": [{"name": "a-b", "path": "/var/log/x", "topic": "t"}]}, "flume_sources item"),
        ({"rsyslog_kafka_sources": [{"name": "a", "path": "relative.log", "topic": "t"}]},
         "rsyslog_kafka_sources item"),
    ],
)
def test_bad_log_inputs_are_rejected_before_any_host_is_touched(run_playbook, pair_vars, message):
    rc, out = run_playbook("preflight.yml", pair_inventory(pair_vars=pair_vars))
    assert rc != 0
    assert message in " ".join(out.split()), out
    assert "UNREACHABLE!" not in out
