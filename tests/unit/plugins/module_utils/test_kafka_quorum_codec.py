"""Unit tests of the DescribeQuorum encoding in module_utils/kafka.py: the
request's exact bytes, answers read back, and the header rule that lets
kafka-python 2.0.2 (Debian trixie) send a flexible request."""

from io import BytesIO

import pytest

from ansible_collections.hapair.stack.plugins.module_utils import kafka as k


@pytest.mark.parametrize("value, encoded", [(0, b"\x00"), (1, b"\x01"), (127, b"\x7f"), (128, b"\x80\x01"),
                                            (300, b"\xac\x02"), (2 ** 31 - 1, b"\xff\xff\xff\xff\x07")])
def test_unsigned_varints_encode_and_decode_as_kafka_writes_them(value, encoded):
    assert k.encode_uvarint(value) == encoded
    assert k.decode_uvarint(BytesIO(encoded)) == value


def test_the_request_asks_for_partition_0_of_the_metadata_topic_byte_for_byte():
    name = b"__cluster_metadata"
    assert k.quorum_request_body() == (
        b"\x02"                                  # one topic (compact array: n + 1)
        + bytes([len(name) + 1]) + name          # compact string
        + b"\x02" + b"\x00\x00\x00\x00" + b"\x00"  # one partition: index 0, no tags
        + b"\x00"                                # the topic's tags
        + b"\x00"                                # the request's tags
    )


def answer(voters, observers=(), error_code=0, leader_id=1):
    return {
        "error_code": 0,
        "topics": [{
            "topic_name": "__cluster_metadata",
            "partitions": [{
                "partition_index": 0, "error_code": error_code, "leader_id": leader_id, "leader_epoch": 7,
                "high_watermark": 1234,
                "current_voters": [{"replica_id": r, "log_end_offset": leo, "last_fetch_timestamp": 10,
                                    "last_caught_up_timestamp": 20, "tags": {}} for r, leo in voters],
                "observers": [{"replica_id": r, "log_end_offset": leo, "last_fetch_timestamp": -1,
                               "last_caught_up_timestamp": -1, "tags": {}} for r, leo in observers],
                "tags": {},
            }],
            "tags": {},
        }],
        "tags": {},
    }


def test_an_answer_reads_back_as_the_dict_parse_quorum_takes():
    sent = answer([(1, 1234), (2, 1230)], observers=[(100, 1200)])
    read = k.decode_flexible(k.QUORUM_RESPONSE, BytesIO(k.encode_flexible(k.QUORUM_RESPONSE, sent)))
    assert read == sent
    quorum = k.parse_quorum(read, now_ms=1020)
    assert quorum["leader_id"] == 1
    assert [(v["id"], v["lag"]) for v in quorum["voters"]] == [(1, 0), (2, 4)]
    assert quorum["observers"][0]["caught_up_ms_ago"] is None


def test_tagged_fields_the_client_does_not_know_are_kept_and_skipped():
    sent = answer([(1, 5)])
    sent["topics"][0]["partitions"][0]["tags"] = {0: b"abc", 3: b""}
    read = k.decode_flexible(k.QUORUM_RESPONSE, BytesIO(k.encode_flexible(k.QUORUM_RESPONSE, sent)))
    assert read["topics"][0]["partitions"][0]["tags"] == {0: b"abc", 3: b""}
    assert read["topics"][0]["partitions"][0]["current_voters"][0]["log_end_offset"] == 5


def test_a_null_string_and_a_null_array_read_as_none():
    schema = (("name", "string"), ("items", ("array", (("id", "int32"),))))
    assert k.decode_flexible(schema, BytesIO(b"\x00\x00")) == {"name": None, "items": None}


def test_a_short_answer_is_an_error_not_a_wrong_value():
    data = k.encode_flexible(k.QUORUM_RESPONSE, answer([(1, 5)]))
    with pytest.raises(ValueError, match="ended"):
        k.decode_flexible(k.QUORUM_RESPONSE, BytesIO(data[:-10]))


def test_the_header_rule_follows_the_library():
    class Old:  # kafka-python 2.0.2: header v1 only
        pass

    class New:  # kafka-python 2.1 and later
        def build_request_header(self):
            pass

    assert not k.library_writes_flexible_headers(Old)
    assert k.library_writes_flexible_headers(New)
