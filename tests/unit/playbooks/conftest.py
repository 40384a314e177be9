"""Run the collection's playbooks against throw-away inventories (inventories.py)."""

import subprocess

import pytest
import yaml
from ansible_collections.hapair.stack.tests.unit.playbook_runs import ANSIBLE_PLAYBOOK, COLLECTION, ansible_env

# The preflight's last step reads each host's OS release, the one thing it
# does on a host; these hosts have none, so it is off here (a test that
# wants it passes preflight_check_platform again, on a host it can reach).
PLATFORM_OFF = ("--extra-vars", '{"preflight_check_platform": false}')


@pytest.fixture
def run_playbook(tmp_path):
    """Run PLAYBOOK (relative to playbooks/) on INVENTORY; return (rc, output)."""

    def run(playbook, inventory, *args):
        inv = tmp_path / "hosts.yml"
        inv.write_text(yaml.safe_dump(inventory))
        proc = subprocess.run(
            [ANSIBLE_PLAYBOOK, "-i", str(inv), str(COLLECTION / "playbooks" / playbook), *PLATFORM_OFF, *args],
            cwd=COLLECTION,
            env=ansible_env(tmp_path, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0"),
            check=False, capture_output=True,
            text=True,
            timeout=120,
        )
        output = proc.stdout + proc.stderr
        assert "UNREACHABLE!" not in output, "a playbook that must not touch any host tried to:\n" + output
        return proc.returncode, " ".join(output.split())

    return run
