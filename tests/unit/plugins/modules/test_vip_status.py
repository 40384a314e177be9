"""Unit tests of the vip_status module: main() wired to recorded output."""

import json
import shutil
from pathlib import Path
from unittest import mock

import pytest
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args

from ansible_collections.hapair.stack.plugins.modules import vip_status

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "vip"


class Exit(Exception):
    def __init__(self, kwargs, failed):
        super().__init__(kwargs)
        self.result, self.failed = kwargs, failed


def run(args, ip_output, rc=0):
    def exit_json(self, **kwargs):
        raise Exit(kwargs, False)

    def fail_json(self, **kwargs):
        raise Exit(kwargs, True)

    with patch_module_args(args), \
            mock.patch.object(basic.AnsibleModule, "exit_json", exit_json), \
            mock.patch.object(basic.AnsibleModule, "fail_json", fail_json), \
            mock.patch.object(basic.AnsibleModule, "run_command", return_value=(rc, ip_output, "boom")) as cmd:
        with pytest.raises(Exit) as caught:
            vip_status.main()
    return caught.value, cmd


@pytest.fixture
def node(tmp_path):
    """A node's files: manifest, state dir and pid file (of this test's own process)."""
    state_dir = tmp_path / "vrrp"
    state_dir.mkdir()
    manifest = json.loads((FIXTURES / "manifest.json").read_text())
    manifest["state_dir"] = str(state_dir)
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    (tmp_path / "keepalived.pid").write_text(f"{__import__('os').getpid()}\n")
    return tmp_path


def test_the_holder_reports_master_and_the_vip(node):
    shutil.copy(FIXTURES / "web-ha2.state", node / "vrrp" / "web.state")
    ip = (FIXTURES / "ip-addr-ha2.json").read_text()
    out, cmd = run({"manifest": str(node / "manifest.json"), "pid_file": str(node / "keepalived.pid")}, ip)
    assert not out.failed and out.result["changed"] is False
    assert out.result["held"] == ["172.28.77.100"] and out.result["master"] == ["web"]
    assert out.result["keepalived_running"] is True
    assert cmd.call_args.args[0] == ["ip", "-j", "addr", "show"]


def test_instances_given_by_hand_override_the_manifest(node):
    shutil.copy(FIXTURES / "web-ha1.state", node / "vrrp" / "web.state")
    ip = (FIXTURES / "ip-addr-ha1.json").read_text()
    args = {
        "instances": [{"name": "web", "vips": ["172.28.77.100/24"], "advert_int": 0.1}],
        "state_dir": str(node / "vrrp"),
        "manifest": str(node / "missing.json"),
        "pid_file": str(node / "missing.pid"),
    }
    out, _unused = run(args, ip)
    assert out.result["held"] == []
    assert out.result["instances"][0]["state"] == "STOP"
    assert out.result["instances"][0]["recorded_state"] == "BACKUP"
    assert out.result["keepalived_running"] is False


def test_no_manifest_and_no_instances_says_what_to_do(node):
    out, _unused = run({"manifest": str(node / "missing.json")}, "[]")
    assert out.failed and "run the hapair.stack.keepalived role" in out.result["msg"]


def test_a_failing_ip_command_is_reported(node):
    out, _unused = run({"manifest": str(node / "manifest.json")}, "", rc=1)
    assert out.failed and "'ip -j addr show' failed" in out.result["msg"]


def test_wait_gives_up_and_still_reports(node):
    ip = (FIXTURES / "ip-addr-ha1.json").read_text()
    with mock.patch.object(vip_status.time, "sleep"):
        out, cmd = run({"manifest": str(node / "manifest.json"), "pid_file": str(node / "keepalived.pid"), "wait": 0.01}, ip)
    assert not out.failed and out.result["instances"][0]["state"] == "UNKNOWN"
    assert cmd.call_count >= 1
