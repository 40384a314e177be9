"""What a user checks on each node after site.yml: a clean systemd, the
tuned kernel parameters live, kept across a reboot, and the peer reachable."""

import os
import subprocess
import time

import pytest

TUNED = {
    "net.core.somaxconn": "65535",
    "net.ipv4.tcp_max_syn_backlog": "65535",
    "net.ipv4.ip_local_port_range": "1024 65535",
    "net.ipv4.tcp_tw_reuse": "1",
    "net.ipv4.ip_nonlocal_bind": "1",
}
SYSCTL_FILE = "/etc/sysctl.d/90-hapair.conf"


def live(host, key):
    return " ".join(host.check_output(f"sysctl -n {key}").split())


def wait_until_running(host, deadline=90):
    end = time.monotonic() + deadline
    state = ""
    while time.monotonic() < end:
        cmd = host.run("systemctl is-system-running")
        state = cmd.stdout.strip()
        if state in ("running", "degraded"):
            return state
        time.sleep(1)
    return state


def test_systemd_runs_with_no_failed_unit(host):
    assert host.run("systemctl is-system-running").stdout.strip() == "running"
    assert host.check_output("systemctl --failed --no-legend --plain") == ""


@pytest.mark.parametrize("key, value", sorted(TUNED.items()))
def test_tuned_parameter_is_live(host, key, value):
    assert live(host, key) == value


def test_parameters_file_holds_what_is_live_and_no_host_global_key(host):
    conf = host.file(SYSCTL_FILE)
    assert conf.exists and conf.user == "root" and conf.mode == 0o644
    lines = [line for line in conf.content_string.splitlines() if line and not line.startswith("#")]
    written = dict(line.split(" = ", 1) for line in lines)
    assert written == TUNED
    # A node is a container: vm.max_map_count is global to the machine's
    # kernel, so it is listed as left alone, never written.
    assert "#   vm.max_map_count = 262144" in conf.content_string


def test_parameters_survive_a_restart_of_the_node(host):
    container = host.ansible.get_variables()["ansible_host"]
    subprocess.run(["docker", "restart", "--time", "20", container], check=True, capture_output=True)
    assert wait_until_running(host) == "running"
    assert {key: live(host, key) for key in TUNED} == TUNED


def test_node_reaches_its_peer_on_the_node_address(host, inventory):
    me = host.ansible.get_variables()["inventory_hostname"]
    hostvars = inventory["_meta"]["hostvars"]
    pair = hostvars[me]["hapair_pair_group"]
    peers = [h for h in inventory[pair]["hosts"] if h != me]
    assert peers, f"{me} has no peer in {pair}"
    for peer in peers:
        address = hostvars[peer]["hapair_node_address"]
        assert host.run(f"ping -c 1 -W 2 {address}").rc == 0, f"{me} cannot ping {peer} at {address}"


def test_an_unknown_key_stops_the_role_before_it_writes(host):
    """A key this kernel lacks fails the run, naming the key and the
    variable it came from, and leaves the parameters file as it was."""
    me = host.ansible.get_variables()["inventory_hostname"]
    before = host.file(SYSCTL_FILE).sha256sum
    scenario = os.environ["MOLECULE_SCENARIO_DIRECTORY"]
    proc = subprocess.run(
        [
            "ansible-playbook",
            "--inventory", os.path.join(scenario, "inventory"),
            "--limit", me,
            "--extra-vars", '{"sysctl_host_settings": {"net.ipv4.no_such_key": 1}}',
            os.path.join(scenario, "..", "..", "playbooks", "base.yml"),
        ],
        check=False, capture_output=True, text=True, timeout=300, env=dict(os.environ, ANSIBLE_NOCOLOR="1"),
    )
    out = " ".join((proc.stdout + proc.stderr).split())
    assert proc.returncode != 0
    assert f"{me}: no such kernel parameter: net.ipv4.no_such_key (set in sysctl_host_settings" in out, out
    assert host.file(SYSCTL_FILE).sha256sum == before
