"""Unit tests of the Kafka status and topic logic, on answers recorded from
a real two-broker KRaft cluster (tests/unit/fixtures/kafka/, recorded with
record.py there)."""

import copy
import json
import pathlib

import pytest

from ansible_collections.hapair.stack.plugins.module_utils import kafka as k

FIXTURES = pathlib.Path(__file__).parents[2] / "fixtures" / "kafka"
DECLARED = [
    {"name": "hapair-access", "partitions": 3, "replication_factor": 2, "min_insync_replicas": 1,
     "retention_ms": 604800000},
    {"name": "hapair-canary", "partitions": 1, "replication_factor": 2, "min_insync_replicas": 1,
     "retention_ms": 604800000},
    {"name": "hapair-mysql-error", "partitions": 1, "replication_factor": 2, "min_insync_replicas": 1,
     "retention_ms": 2592000000},
]


def load(name):
    return json.loads((FIXTURES / name).read_text())


def state(name):
    data = load(name)
    cluster = k.parse_cluster(data["cluster"])
    topics = k.parse_topics(data["topics"])
    if "error" in data["quorum"]:
        quorum = k.quorum_error(data["quorum"]["error"])
    else:
        quorum = k.parse_quorum(data["quorum"], data["now_ms"])
    return data, cluster, quorum, topics


def test_healthy_cluster_has_two_brokers_a_leader_and_full_isr():
    _unused, cluster, quorum, topics = state("healthy.json")
    assert [b["id"] for b in cluster["brokers"]] == [1, 2]
    assert quorum["leader_id"] in (1, 2)
    assert [v["id"] for v in quorum["voters"]] == [1, 2]
    assert all(v["lag"] == 0 for v in quorum["voters"])
    assert [t["name"] for t in topics] == ["hapair-access", "hapair-canary", "hapair-mysql-error"]
    assert [p["partition"] for p in topics[0]["partitions"]] == [0, 1, 2]
    assert k.under_replicated(topics) == []
    assert k.verdict(cluster, quorum, topics, [1, 2], ["hapair-access"]) == (True, [])


def test_one_of_two_voters_down_leaves_no_quorum_and_short_isr():
    _unused, cluster, quorum, topics = state("two_voters_one_down.json")
    healthy, reasons = k.verdict(cluster, quorum, topics, [1, 2], ["hapair-access"])
    assert not healthy
    assert "broker 2 is not registered (registered: [1])" in reasons
    assert any(r.startswith("the KRaft quorum could not be described: RequestTimedOutError") for r in reasons)
    # A clean stop moved every leader to broker 1 and shrank the ISR to it.
    assert all(p["leader"] == 1 and p["isr"] == [1] for t in topics for p in t["partitions"])


def test_under_replicated_partition_is_named():
    _unused, cluster, quorum, topics = state("healthy.json")
    topics = copy.deepcopy(topics)
    data = load("healthy.json")
    for topic in data["topics"]:
        if topic["topic"] == "hapair-canary":
            topic["partitions"][0]["isr"] = [topic["partitions"][0]["leader"]]
    topics = k.parse_topics(data["topics"])
    healthy, reasons = k.verdict(cluster, quorum, topics)
    assert not healthy
    assert k.under_replicated(topics) == ["hapair-canary-0"]
    assert reasons[0].startswith("hapair-canary-0 is under-replicated")


def test_lagging_voter_and_missing_leader_are_reasons():
    data = load("healthy.json")
    part = data["quorum"]["topics"][0]["partitions"][0]
    leader = next(v for v in part["current_voters"] if v["replica_id"] == part["leader_id"])
    follower = next(v for v in part["current_voters"] if v["replica_id"] != part["leader_id"])
    leader["log_end_offset"] = follower["log_end_offset"] + 5000
    quorum = k.parse_quorum(data["quorum"], data["now_ms"])
    cluster, topics = k.parse_cluster(data["cluster"]), k.parse_topics(data["topics"])
    _unused, reasons = k.verdict(cluster, quorum, topics, max_voter_lag=1000)
    assert reasons == ["voter %s lags the leader by 5000 records" % follower["replica_id"]]
    part["leader_id"] = -1
    quorum = k.parse_quorum(data["quorum"], data["now_ms"])
    assert quorum["leader_id"] is None
    assert "the KRaft quorum has no leader" in k.verdict(cluster, quorum, topics)[1]


def test_internal_topics_are_hidden_unless_asked():
    data = load("healthy.json")
    data["topics"].append({"error_code": 0, "topic": "__consumer_offsets", "is_internal": True, "partitions": []})
    assert "__consumer_offsets" in [t["name"] for t in k.parse_topics(data["topics"], include_internal=True)]
    assert "__consumer_offsets" not in [t["name"] for t in k.parse_topics(data["topics"])]


def test_matching_topics_plan_nothing():
    data, _unused, _unused, topics = state("healthy.json")
    assert k.plan_topics(DECLARED, topics, data["configs"]) == ([], [])


def test_missing_topic_more_partitions_and_new_retention_are_planned():
    data, _unused, _unused, topics = state("healthy.json")
    declared = copy.deepcopy(DECLARED)
    declared[0]["partitions"] = 6
    declared[1]["retention_ms"] = 3600000
    declared.append({"name": "hapair-new", "partitions": 2, "replication_factor": 2, "configs": {"cleanup.policy": "delete"}})
    actions, errors = k.plan_topics(declared, topics, data["configs"])
    assert errors == []
    assert {"action": "partitions", "topic": "hapair-access", "from": 3, "to": 6} in actions
    configs = next(a for a in actions if a["action"] == "configs")
    assert configs["topic"] == "hapair-canary" and configs["changed"] == {"retention.ms": "3600000"}
    create = next(a for a in actions if a["action"] == "create")
    assert create == {"action": "create", "topic": "hapair-new", "partitions": 2, "replication_factor": 2,
                      "configs": {"cleanup.policy": "delete"}}


@pytest.mark.parametrize("change, message", [
    ({"partitions": 1}, "Kafka cannot remove partitions"),
    ({"replication_factor": 1}, "partition reassignment"),
])
def test_impossible_changes_are_errors(change, message):
    data, _unused, _unused, topics = state("healthy.json")
    declared = copy.deepcopy(DECLARED)
    declared[0].update(change)
    _unused, errors = k.plan_topics(declared, topics, data["configs"])
    assert len(errors) == 1 and message in errors[0] and "hapair-access" in errors[0]


def test_first_match_finds_the_marked_access_log_line():
    records = [
        {"partition": 0, "offset": 7, "timestamp": 1, "value": '{"uri":"/","status":200}'},
        {"partition": 2, "offset": 9, "timestamp": 2, "value": '{"uri":"/?hapair-gate=abc123","status":200}'},
    ]
    assert k.first_match(records, "hapair-gate=abc123")["offset"] == 9
    assert k.first_match(records, "hapair-gate=zzz") is None


def test_captures_collects_each_match_of_the_drill_pattern_with_repeats():
    line = '{"node":"ha1","method":"POST","uri":"/write?seq=%d","status":%d}'
    records = [{"partition": 0, "offset": n, "timestamp": n, "value": v} for n, v in enumerate([
        line % (17, 200), line % (18, 502), '{"uri":"/?hapair-gate=abc","status":200}', line % (17, 200)])]
    pattern = '"uri":"/write[?]seq=([0-9]+)"'
    assert k.captures(records, pattern) == ["17", "18", "17"]
    # Without a group, the whole match.
    assert k.captures(records[:1], "seq=[0-9]+") == ["seq=17"]
    assert k.captures([], pattern) == []
