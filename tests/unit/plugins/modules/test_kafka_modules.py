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
    assert "kafka-python (Debian: python3-kafka)" in failed.value.result["msg"]
    assert failed.value.params["timeout"] == timeout
    assert failed.value.params["bootstrap_servers"] == "192.0.2.11:9092"
