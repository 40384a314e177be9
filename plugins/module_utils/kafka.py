# -*- coding: utf-8 -*-
# Copyright: hapair.stack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kafka code shared by the kafka_search, kafka_status and kafka_topics modules.

The client is kafka-python (Debian's python3-kafka), chosen because it is
pure Python and packaged by Debian, so the kafka role installs it with apt
on the node next to the broker (no compiler, no librdkafka, nothing from
PyPI on a server), and because its public client (KafkaClient) sends any
request, so we can send Kafka's own DescribeQuorum request (API key 55),
which neither kafka-python's nor confluent-kafka's admin client wraps yet.
Only public names of kafka-python are used, and the request is encoded
here, so the modules work with the 2.0.2 that Debian trixie ships as well
as with sid's 2.2.

Everything that decides is a small pure function over plain data (the
answers of the brokers as dicts), so the unit tests cover it with answers
recorded from a real cluster. Only connect() and the fetch_* functions talk
to Kafka.
"""

from __future__ import annotations

import re
import struct
import time
from io import BytesIO

from ansible.module_utils.basic import missing_required_lib

try:
    from kafka import KafkaAdminClient, KafkaClient, KafkaConsumer, TopicPartition
    from kafka import __version__ as KAFKA_VERSION
    from kafka.admin import ConfigResource, ConfigResourceType, NewPartitions, NewTopic
    from kafka.protocol.abstract import AbstractType
    from kafka.protocol.api import Request, Response
    from kafka.protocol.types import Schema

    HAS_KAFKA = True
    KAFKA_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - depends on the host
    HAS_KAFKA = False
    KAFKA_IMPORT_ERROR = exc
    KAFKA_VERSION = None

# What to install when the client is missing: the pip name and Debian's
# package. Tested: Debian trixie's python3-kafka 2.0.2 and sid's 2.2.
KAFKA_LIBRARY = "kafka-python 2.0.2 or later (Debian: python3-kafka)"

METADATA_TOPIC = "__cluster_metadata"

# Settings the topic plan manages, by the name kafka_topics items use.
TOPIC_SETTINGS = {
    "min_insync_replicas": "min.insync.replicas",
    "retention_ms": "retention.ms",
}


# --------------------------------------------------------------------------
# DescribeQuorum (KIP-595/KIP-836), version 1. Every version of it is
# "flexible" (compact strings and arrays, tagged fields, header v2), which
# kafka-python 2.0.2 (Debian trixie's python3-kafka) cannot encode and
# later versions spell differently, so the request and its answer are
# encoded here, in plain Python over bytes, and only sent through the
# library. A schema is a tuple of (name, type); a type is "int16",
# "int32", "int64", "string" (compact), "tags" or ("array", schema).

QUORUM_API_KEY = 55
QUORUM_API_VERSION = 1

_QUORUM_REPLICA = (
    ("replica_id", "int32"),
    ("log_end_offset", "int64"),
    ("last_fetch_timestamp", "int64"),
    ("last_caught_up_timestamp", "int64"),
    ("tags", "tags"),
)
QUORUM_REQUEST = (
    ("topics", ("array", (
        ("topic_name", "string"),
        ("partitions", ("array", (
            ("partition_index", "int32"),
            ("tags", "tags"),
        ))),
        ("tags", "tags"),
    ))),
    ("tags", "tags"),
)
QUORUM_RESPONSE = (
    ("error_code", "int16"),
    ("topics", ("array", (
        ("topic_name", "string"),
        ("partitions", ("array", (
            ("partition_index", "int32"),
            ("error_code", "int16"),
            ("leader_id", "int32"),
            ("leader_epoch", "int32"),
            ("high_watermark", "int64"),
            ("current_voters", ("array", _QUORUM_REPLICA)),
            ("observers", ("array", _QUORUM_REPLICA)),
            ("tags", "tags"),
        ))),
        ("tags", "tags"),
    ))),
    ("tags", "tags"),
)

_INTS = {"int16": struct.Struct(">h"), "int32": struct.Struct(">i"), "int64": struct.Struct(">q")}


def encode_uvarint(value):
    """Kafka's unsigned varint (7 bits a byte, low bits first)."""
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def decode_uvarint(stream):
    value, shift = 0, 0
    while True:
        raw = stream.read(1)
        if not raw:
            raise ValueError("the answer ended inside a varint")
        value |= (raw[0] & 0x7F) << shift
        if not raw[0] & 0x80:
            return value
        shift += 7


def _read(stream, size):
    data = stream.read(size)
    if len(data) != size:
        raise ValueError("the answer ended %s bytes early" % (size - len(data)))
    return data


def encode_flexible(schema, value):
    """value (a dict) as bytes, field by field in schema order."""
    out = []
    for name, kind in schema:
        item = value.get(name)
        if kind in _INTS:
            out.append(_INTS[kind].pack(item))
        elif kind == "string":
            if item is None:
                out.append(encode_uvarint(0))
            else:
                data = item.encode("utf-8")
                out.append(encode_uvarint(len(data) + 1) + data)
        elif kind == "tags":
            tags = item or {}
            out.append(encode_uvarint(len(tags)))
            for tag in sorted(tags):
                out.append(encode_uvarint(tag) + encode_uvarint(len(tags[tag])) + tags[tag])
        else:
            if item is None:
                out.append(encode_uvarint(0))
            else:
                out.append(encode_uvarint(len(item) + 1))
                out.extend(encode_flexible(kind[1], element) for element in item)
    return b"".join(out)


def decode_flexible(schema, stream):
    """The dict that schema reads from stream (a file-like object)."""
    value = {}
    for name, kind in schema:
        if kind in _INTS:
            value[name] = _INTS[kind].unpack(_read(stream, _INTS[kind].size))[0]
        elif kind == "string":
            length = decode_uvarint(stream) - 1
            value[name] = None if length < 0 else _read(stream, length).decode("utf-8")
        elif kind == "tags":
            tags = {}
            for _unused in range(decode_uvarint(stream)):
                tag = decode_uvarint(stream)
                tags[tag] = _read(stream, decode_uvarint(stream))
            value[name] = tags
        else:
            length = decode_uvarint(stream) - 1
            value[name] = None if length < 0 else [decode_flexible(kind[1], stream) for _unused in range(length)]
    return value


def quorum_request_body(topic=METADATA_TOPIC, partition=0):
    """The DescribeQuorum v1 request body for one partition."""
    return encode_flexible(QUORUM_REQUEST, {
        "topics": [{"topic_name": topic, "partitions": [{"partition_index": partition}]}],
    })


def library_writes_flexible_headers(request_class):
    """Whether this kafka-python writes request header v2 itself (2.1 and
    later: Request.build_request_header with FLEXIBLE_VERSION). Older ones
    (2.0.2) write header v1; v2 is v1 plus an empty tag buffer, which is
    then sent as the first byte of the body, and the answer's header tag
    buffer is read before the body."""
    return hasattr(request_class, "build_request_header")


if HAS_KAFKA:
    _FLEXIBLE_HEADERS = library_writes_flexible_headers(Request)

    class _Body(AbstractType):
        """Bytes encoded by encode_flexible(), sent as they are."""

        @classmethod
        def encode(cls, value):
            return value

        @classmethod
        def decode(cls, data):  # pragma: no cover - requests are never read back
            return data.read()

    class _QuorumAnswer(AbstractType):
        """The DescribeQuorum answer read with decode_flexible()."""

        @classmethod
        def encode(cls, value):  # pragma: no cover - answers are never sent
            raise NotImplementedError

        @classmethod
        def decode(cls, data):
            if isinstance(data, bytes):
                data = BytesIO(data)
            if not _FLEXIBLE_HEADERS:
                decode_flexible((("header_tags", "tags"),), data)
            return decode_flexible(QUORUM_RESPONSE, data)

    class DescribeQuorumResponse(Response):
        API_KEY = QUORUM_API_KEY
        API_VERSION = QUORUM_API_VERSION
        FLEXIBLE_VERSION = True
        SCHEMA = Schema(("answer", _QuorumAnswer))

    class DescribeQuorumRequest(Request):
        API_KEY = QUORUM_API_KEY
        API_VERSION = QUORUM_API_VERSION
        FLEXIBLE_VERSION = True
        RESPONSE_TYPE = DescribeQuorumResponse
        SCHEMA = Schema(("body", _Body))


# --------------------------------------------------------------------------
# What every Kafka module starts with.

def client_argument_spec(timeout_default):
    """The connection options every Kafka module takes, for its argument_spec.

    Documented once in the hapair.stack.kafka_client doc fragment. The
    timeout default is the module's own (kafka_topics waits longer than the
    status modules), so the caller passes it.
    """
    return {
        "bootstrap_servers": {"type": "str", "required": True},
        "timeout": {"type": "float", "default": timeout_default},
    }


def require_client(module):
    """Fail the module, naming the package to install, when kafka-python is
    missing or lacks what the modules use (a version before 2.0.2); the
    modules call it before they touch Kafka, so a host without a working
    client gets that message rather than a NameError."""
    if not HAS_KAFKA:
        module.fail_json(msg=missing_required_lib(KAFKA_LIBRARY), exception=str(KAFKA_IMPORT_ERROR))


# --------------------------------------------------------------------------
# Talking to Kafka.

def connect(bootstrap_servers, timeout):
    """An admin client on the given brokers (comma-separated host:port)."""
    return KafkaAdminClient(
        bootstrap_servers=bootstrap_servers,
        client_id="hapair-stack",
        request_timeout_ms=int(timeout * 1000),
        api_version_auto_timeout_ms=int(timeout * 1000),
    )


def _until(client, done, deadline, what):
    """Poll the client until done() is true; TimeoutError after deadline."""
    while not done():
        if time.monotonic() > deadline:
            raise TimeoutError("no answer from Kafka within the timeout (%s)" % what)
        client.poll(timeout_ms=100)


def fetch_cluster(admin):
    """The brokers' metadata answer: brokers, controller_id, cluster_id."""
    return admin.describe_cluster()


def fetch_topics(admin, names=None):
    """The metadata answer for the given topics (all when names is None)."""
    return admin.describe_topics(names)


def fetch_quorum(bootstrap_servers, timeout):
    """The DescribeQuorum answer of the metadata partition, as a dict, asked
    with kafka-python's public KafkaClient of any broker."""
    deadline = time.monotonic() + timeout
    client = KafkaClient(
        bootstrap_servers=bootstrap_servers,
        client_id="hapair-stack",
        request_timeout_ms=int(timeout * 1000),
        api_version_auto_timeout_ms=int(timeout * 1000),
    )
    try:
        nodes = []

        def connected():
            node = client.least_loaded_node()
            nodes[:] = [node]
            return node is not None and client.ready(node)

        _until(client, connected, deadline, "connecting")
        body = quorum_request_body()
        if not _FLEXIBLE_HEADERS:
            # The empty tag buffer that ends request header v2.
            body = encode_uvarint(0) + body
        future = client.send(nodes[0], DescribeQuorumRequest(body=body))
        _until(client, lambda: future.is_done, deadline, "DescribeQuorum")
        if future.failed():
            raise future.exception
        return future.value.answer
    finally:
        client.close()


def fetch_topic_configs(admin, names):
    """{topic: {setting: value}} of the topics' current settings."""
    if not names:
        return {}
    resources = [ConfigResource(ConfigResourceType.TOPIC, name) for name in names]
    answers = admin.describe_configs(resources)
    configs = {}
    for answer in answers:
        for resource in answer.to_object()["resources"]:
            configs[resource["resource_name"]] = {
                entry["config_names"]: entry["config_value"] for entry in resource["config_entries"]
            }
    return configs


# --------------------------------------------------------------------------
# Pure functions.

def parse_cluster(answer):
    """Brokers (sorted by id) and the cluster id from a describe_cluster answer."""
    brokers = sorted(
        ({"id": b["node_id"], "host": b["host"], "port": b["port"], "rack": b.get("rack")}
         for b in answer.get("brokers", [])),
        key=lambda b: b["id"],
    )
    return {"cluster_id": answer.get("cluster_id"), "brokers": brokers}


def parse_quorum(answer, now_ms):
    """The KRaft quorum from a DescribeQuorum answer.

    Each voter's lag is the leader's log end offset minus the voter's, and
    its staleness the time since it last caught up with the leader.
    """
    if answer.get("error_code"):
        return {"error_code": answer["error_code"], "leader_id": None, "voters": [], "observers": []}
    partition = answer["topics"][0]["partitions"][0]
    if partition.get("error_code"):
        return {"error_code": partition["error_code"], "leader_id": None, "voters": [], "observers": []}
    leader_id = partition["leader_id"]
    replicas = partition["current_voters"] + partition["observers"]
    leader_leo = max((r["log_end_offset"] for r in replicas if r["replica_id"] == leader_id), default=None)

    def replica(r):
        caught_up = r.get("last_caught_up_timestamp", -1)
        return {
            "id": r["replica_id"],
            "log_end_offset": r["log_end_offset"],
            "lag": (leader_leo - r["log_end_offset"]) if leader_leo is not None and r["log_end_offset"] >= 0 else None,
            "caught_up_ms_ago": (now_ms - caught_up) if caught_up >= 0 else None,
            "leader": r["replica_id"] == leader_id,
        }

    return {
        "error_code": 0,
        "leader_id": leader_id if leader_id >= 0 else None,
        "leader_epoch": partition["leader_epoch"],
        "high_watermark": partition["high_watermark"],
        "voters": sorted((replica(r) for r in partition["current_voters"]), key=lambda r: r["id"]),
        "observers": sorted((replica(r) for r in partition["observers"]), key=lambda r: r["id"]),
    }


def quorum_error(error):
    """The quorum when DescribeQuorum got no answer (no leader, a timeout)."""
    return {"error": "%s: %s" % (type(error).__name__, error) if isinstance(error, Exception) else str(error),
            "error_code": None, "leader_id": None, "voters": [], "observers": []}


def parse_topics(answer, include_internal=False):
    """Topics with their partitions' leader, replicas and in-sync replicas."""
    topics = []
    for topic in answer:
        if topic.get("is_internal") and not include_internal:
            continue
        partitions = []
        for p in sorted(topic.get("partitions", []), key=lambda p: p["partition"]):
            replicas = list(p["replicas"])
            isr = list(p["isr"])
            partitions.append({
                "partition": p["partition"],
                "leader": p["leader"] if p["leader"] >= 0 else None,
                "replicas": replicas,
                "isr": isr,
                "under_replicated": len(isr) < len(replicas),
                "offline": p["leader"] < 0,
            })
        topics.append({
            "name": topic["topic"],
            "error_code": topic["error_code"],
            "partitions": partitions,
            "replication_factor": max((len(p["replicas"]) for p in partitions), default=0),
        })
    return sorted(topics, key=lambda t: t["name"])


def verdict(cluster, quorum, topics, expected_brokers=None, expected_topics=None, max_voter_lag=1000):
    """(healthy, reasons): what a person would check, each failure in words."""
    reasons = []
    ids = [b["id"] for b in cluster["brokers"]]
    for missing in sorted(set(expected_brokers or []) - set(ids)):
        reasons.append("broker %s is not registered (registered: %s)" % (missing, ids or "none"))
    if quorum.get("error"):
        reasons.append("the KRaft quorum could not be described: %s" % quorum["error"])
    elif quorum.get("error_code"):
        reasons.append("the quorum could not be described (error %s)" % quorum["error_code"])
    elif quorum["leader_id"] is None:
        reasons.append("the KRaft quorum has no leader")
    for voter in quorum.get("voters", []):
        if voter["lag"] is None:
            reasons.append("voter %s has not fetched from the leader" % voter["id"])
        elif voter["lag"] > max_voter_lag:
            reasons.append("voter %s lags the leader by %s records" % (voter["id"], voter["lag"]))
    names = [t["name"] for t in topics]
    for missing in sorted(set(expected_topics or []) - set(names)):
        reasons.append("topic %s does not exist" % missing)
    for topic in topics:
        if topic["error_code"]:
            reasons.append("topic %s answers error %s" % (topic["name"], topic["error_code"]))
        for p in topic["partitions"]:
            if p["offline"]:
                reasons.append("%s-%s has no leader" % (topic["name"], p["partition"]))
            elif p["under_replicated"]:
                reasons.append("%s-%s is under-replicated (replicas %s, in sync %s)"
                               % (topic["name"], p["partition"], p["replicas"], p["isr"]))
    return (not reasons, reasons)


def under_replicated(topics):
    """['topic-partition', ...] of the partitions whose ISR is short."""
    return ["%s-%s" % (t["name"], p["partition"]) for t in topics for p in t["partitions"] if p["under_replicated"]]


def desired_settings(topic):
    """{setting: value as string} a kafka_topics item asks for."""
    settings = {key: str(value) for key, value in (topic.get("configs") or {}).items()}
    for option, setting in TOPIC_SETTINGS.items():
        if topic.get(option) is not None:
            settings[setting] = str(topic[option])
    return settings


def plan_topics(desired, current, current_configs):
    """The actions that make the cluster's topics match the declared ones.

    desired: kafka_topics items; current: parse_topics() output;
    current_configs: {topic: {setting: value}}. Returns (actions, errors),
    each action a dict with 'action' in create, partitions, configs.
    """
    actions, errors = [], []
    by_name = {t["name"]: t for t in current}
    for topic in desired:
        name = topic["name"]
        partitions = int(topic.get("partitions", 1))
        factor = int(topic.get("replication_factor", 2))
        settings = desired_settings(topic)
        have = by_name.get(name)
        if have is None:
            actions.append({"action": "create", "topic": name, "partitions": partitions,
                            "replication_factor": factor, "configs": settings})
            continue
        have_partitions = len(have["partitions"])
        if partitions > have_partitions:
            actions.append({"action": "partitions", "topic": name, "from": have_partitions, "to": partitions})
        elif partitions < have_partitions:
            errors.append("topic %s has %s partitions and %s are asked: Kafka cannot remove partitions"
                          % (name, have_partitions, partitions))
        if factor != have["replication_factor"]:
            errors.append("topic %s has replication factor %s and %s is asked: change it with a partition "
                          "reassignment, not in place" % (name, have["replication_factor"], factor))
        have_settings = current_configs.get(name, {})
        changed = {k: v for k, v in settings.items() if have_settings.get(k) != v}
        if changed:
            actions.append({"action": "configs", "topic": name, "configs": settings, "changed": changed})
    return actions, errors


def apply_topic_actions(admin, actions, timeout):
    """Carry out plan_topics() actions with the admin client."""
    timeout_ms = int(timeout * 1000)
    for action in actions:
        if action["action"] == "create":
            admin.create_topics([NewTopic(action["topic"], action["partitions"], action["replication_factor"],
                                          topic_configs=action["configs"])], timeout_ms=timeout_ms)
        elif action["action"] == "partitions":
            admin.create_partitions({action["topic"]: NewPartitions(action["to"])}, timeout_ms=timeout_ms)
        elif action["action"] == "configs":
            # alter_configs sets the topic's whole set of overrides: the
            # declared settings are exactly the overrides the topic keeps.
            admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, action["topic"], configs=action["configs"])])


# --------------------------------------------------------------------------
# Searching a topic for a record (the health gate's end-to-end check), or
# collecting what a pattern matches in it (the drill's count of log lines).

def first_match(records, needle):
    """The first record (dict with value as text) whose value holds needle."""
    for record in records:
        if needle in record["value"]:
            return record
    return None


def captures(records, pattern):
    """What a regular expression captures in each record's value: the first
    group of each match (the whole match when it has no group), in order."""
    regex = re.compile(pattern)
    found = []
    for record in records:
        for match in regex.finditer(record["value"]):
            found.append(match.group(1) if regex.groups else match.group(0))
    return found


def _records_of(batch):
    return [{"partition": r.partition, "offset": r.offset, "timestamp": r.timestamp,
             "value": (r.value or b"").decode("utf-8", "replace")}
            for rs in batch.values() for r in rs]


def _consumer_at(bootstrap_servers, topic, since_ms, timeout):
    """A consumer on every partition of topic, at the first offset written
    at or after since_ms (or the end). Returns (consumer, partitions, end
    offsets when it was placed)."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap_servers, client_id="hapair-stack-search",
                             enable_auto_commit=False, group_id=None,
                             request_timeout_ms=max(int(timeout * 1000) + 1000, 30000),
                             fetch_max_wait_ms=100)
    try:
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])]
        if not partitions:
            raise ValueError("topic %s does not exist" % topic)
        consumer.assign(partitions)
        starts = consumer.offsets_for_times({tp: since_ms for tp in partitions})
        ends = consumer.end_offsets(partitions)
        for tp in partitions:
            found = starts.get(tp)
            consumer.seek(tp, found.offset if found is not None else ends[tp])
    except Exception:
        consumer.close()
        raise
    return consumer, partitions, ends


def search_topic(bootstrap_servers, topic, needle, since_ms, timeout):
    """Read topic from the first offset at or after since_ms until a record
    holding needle arrives or timeout seconds pass. Returns (record or None,
    records read)."""
    consumer, _unused, _unused = _consumer_at(bootstrap_servers, topic, since_ms, timeout)
    try:
        deadline = time.monotonic() + timeout
        seen = 0
        while time.monotonic() < deadline:
            records = _records_of(consumer.poll(timeout_ms=100))
            seen += len(records)
            match = first_match(records, needle)
            if match is not None:
                match["read_at_ms"] = int(time.time() * 1000)
                return match, seen
        return None, seen
    finally:
        consumer.close()


def collect_topic(bootstrap_servers, topic, pattern, since_ms, timeout):
    """Read topic from the first offset at or after since_ms up to its end
    (as it was when the reading began) and return (captures of pattern,
    records read, whether the end was reached before timeout seconds)."""
    consumer, partitions, ends = _consumer_at(bootstrap_servers, topic, since_ms, timeout)
    try:
        deadline = time.monotonic() + timeout
        seen, found = 0, []
        while time.monotonic() < deadline:
            if all(consumer.position(tp) >= ends[tp] for tp in partitions):
                return found, seen, True
            records = _records_of(consumer.poll(timeout_ms=100))
            seen += len(records)
            found += captures(records, pattern)
        return found, seen, False
    finally:
        consumer.close()
