"""Unit tests of what every Kafka module starts with: client_argument_spec()
and require_client() in module_utils/kafka.py, and the kafka_client doc
fragment that documents the same options."""

import pytest
import yaml

from ansible_collections.hapair.stack.plugins.doc_fragments.kafka_client import ModuleDocFragment
from ansible_collections.hapair.stack.plugins.module_utils import kafka as k


class Failed(Exception):
    """What a fake module's fail_json() raises, with its arguments."""


class FakeModule:
    """Records fail_json() like AnsibleModule, which does not return."""

    def fail_json(self, **kwargs):
        raise Failed(kwargs)


def test_client_argument_spec_has_the_two_connection_options_with_the_given_timeout():
    assert k.client_argument_spec(10) == {
        "bootstrap_servers": {"type": "str", "required": True},
        "timeout": {"type": "float", "default": 10},
    }
    assert k.client_argument_spec(timeout_default=30)["timeout"]["default"] == 30


def test_client_argument_spec_returns_a_new_spec_each_time():
    spec = k.client_argument_spec(10)
    spec["timeout"]["default"] = 99
    assert k.client_argument_spec(10)["timeout"]["default"] == 10


def test_the_fragment_documents_the_spec_with_no_default_timeout():
    options = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"]
    spec = k.client_argument_spec(10)
    assert set(options) == set(spec)
    for name, option in spec.items():
        assert options[name]["type"] == option["type"]
        assert options[name].get("required", False) == option.get("required", False)
    assert "default" not in options["timeout"]


def test_require_client_fails_naming_the_package_when_kafka_python_is_missing(monkeypatch):
    monkeypatch.setattr(k, "HAS_KAFKA", False)
    monkeypatch.setattr(k, "KAFKA_IMPORT_ERROR", ImportError("No module named 'kafka'"))
    with pytest.raises(Failed) as failed:
        k.require_client(FakeModule())
    result = failed.value.args[0]
    assert "kafka-python 2.0.2 or later (Debian: python3-kafka)" in result["msg"]
    assert result["exception"] == "No module named 'kafka'"


def test_require_client_lets_the_module_go_on_when_kafka_python_is_there(monkeypatch):
    monkeypatch.setattr(k, "HAS_KAFKA", True)
    assert k.require_client(FakeModule()) is None
