"""keepalived.conf holds the VRRPv2 password: its task shows no --diff then.

The `diff:` of the role's own task (read from tasks/configure.yml) is put on
a copy into a temporary directory on the controller, run with and without
--diff, with and without a password in the plan.
"""

import json
import subprocess
import sys

import pytest
import yaml
from ansible_collections.hapair.stack.tests.unit.playbook_runs import ANSIBLE_PLAYBOOK, COLLECTION, ansible_env
SECRET = "Zk7-pw"


def config_task():
    tasks = yaml.safe_load((COLLECTION / "roles" / "keepalived" / "tasks" / "configure.yml").read_text())
    return next(t for t in tasks if t.get("name") == "Write the keepalived configuration")


def run(tmp_path, auth_pass, *args):
    dest = tmp_path / "keepalived.conf"
    dest.write_text("vrrp_instance web {\n}\n")
    play = [{
        "name": "The configuration task's diff",
        "hosts": "localhost",
        "gather_facts": False,
        "vars": {"__keepalived_plan": {"instances": [{"name": "web", "auth_pass": auth_pass}]}},
        "tasks": [{
            "name": "Write like the role does",
            "ansible.builtin.copy": {"dest": str(dest), "content": f"vrrp_instance web {{\n  auth_pass {auth_pass}\n}}\n"},
            "diff": config_task()["diff"],
        }],
    }]
    (tmp_path / "play.yml").write_text(yaml.safe_dump(play))
    env = ansible_env(tmp_path, ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json")
    proc = subprocess.run([ANSIBLE_PLAYBOOK, "-i", "localhost,", "-c", "local",
                           "-e", f"ansible_python_interpreter={sys.executable}", str(tmp_path / "play.yml"), *args],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = json.loads(proc.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]
    assert result["changed"]
    return proc.stdout + proc.stderr, result


def test_a_password_is_never_in_the_diff(tmp_path):
    output, result = run(tmp_path, SECRET, "--diff")
    assert SECRET not in output
    assert not result.get("diff")


@pytest.mark.parametrize(("args", "shown"), [(("--diff",), True), ((), False)])
def test_without_a_password_the_diff_follows_the_command_line(tmp_path, args, shown):
    _unused, result = run(tmp_path, "", *args)
    assert bool(result.get("diff")) is shown
