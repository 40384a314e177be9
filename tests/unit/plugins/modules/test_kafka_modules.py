"""Unit tests of the Kafka modules' wiring: each one takes the shared
connection options with its own timeout default, and stops with the install
hint before it touches Kafka when kafka-python is missing."""

from unittest import mock

import pytest
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args

from ansible_collections.hapair.stack.plugins.module_utils import kafka as k
from ansible_collections.hapair.stack.plugins.modules import kafka_search, kafka_status, kafka_topics


class Failed(Exception):
    def __init__(self, kwargs, params):
        super().__init__(kwargs)
        self.result, self.params = kwargs, params


def fail_json(self, **kwargs):
    raise Failed(kwargs, self.params)


@pytest.mark.parametrize("module, args, timeout", [
    (kafka_status, {}, 10),
    (kafka_search, {"topic": "hapair-access", "needle": "x"}, 10),
    (kafka_topics, {"topics": [{"name": "hapair-access"}]}, 30),
])
def test_without_kafka_python_the_module_fails_with_the_install_hint(monkeypatch, module, args, timeout):
    monkeypatch.setattr(k, "HAS_KAFKA", False)
    monkeypatch.setattr(k, "KAFKA_IMPORT_ERROR", ImportError("No module named 'kafka'"))
    with patch_module_args({"bootstrap_servers": "192.0.2.11:9092", **args}), \
            mock.patch.object(basic.AnsibleModule, "fail_json", fail_json), \
            mock.patch.object(k, "connect", side_effect=AssertionError("connected without a client")), \
            mock.patch.object(k, "search_topic", side_effect=AssertionError("searched without a client")):
        with pytest.raises(Failed) as failed:
            module.main()
    assert "kafka-python 2.0.2 or later (Debian: python3-kafka)" in failed.value.result["msg"]
    assert failed.value.params["timeout"] == timeout
    assert failed.value.params["bootstrap_servers"] == "192.0.2.11:9092"


class Exited(Exception):
    def __init__(self, kwargs):
        super().__init__(kwargs)
        self.result = kwargs


def exit_json(self, **kwargs):
    raise Exited(kwargs)


def test_search_with_a_pattern_collects_every_match_instead_of_waiting_for_a_needle(monkeypatch):
    monkeypatch.setattr(k, "HAS_KAFKA", True)
    collect = mock.Mock(return_value=(["17", "18", "17"], 40, True))
    with patch_module_args({"bootstrap_servers": "192.0.2.11:9092", "topic": "hapair-access",
                            "pattern": "seq=([0-9]+)", "since_ms": 5}), \
            mock.patch.object(basic.AnsibleModule, "exit_json", exit_json), \
            mock.patch.object(k, "collect_topic", collect), \
            mock.patch.object(k, "search_topic", side_effect=AssertionError("waited for a needle")):
        with pytest.raises(Exited) as exited:
            kafka_search.main()
    collect.assert_called_once_with("192.0.2.11:9092", "hapair-access", "seq=([0-9]+)", 5, 10)
    assert exited.value.result["matches"] == ["17", "18", "17"]
    assert exited.value.result["complete"] is True and exited.value.result["records_read"] == 40


def test_search_needs_a_needle_or_a_pattern_not_both():
    for args in ({}, {"needle": "x", "pattern": "y"}):
        with patch_module_args({"bootstrap_servers": "192.0.2.11:9092", "topic": "hapair-access", **args}), \
                mock.patch.object(basic.AnsibleModule, "fail_json", fail_json):
            with pytest.raises(Failed):
                kafka_search.main()
