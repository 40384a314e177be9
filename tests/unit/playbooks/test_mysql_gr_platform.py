"""The preflight's last step: each host's OS release (read from the host)
against what mysql_gr needs from it. Run on the controller itself as the
pair's two hosts (local connection), so the release read is the
controller's, whatever it is; the lists of releases are set around it."""

import sys

from ansible_collections.hapair.stack.tests.unit.playbooks.inventories import pair_inventory

LOCAL = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
HOSTS = {"n1": {**LOCAL, "hapair_node_address": "192.0.2.11"}, "n2": {**LOCAL, "hapair_node_address": "192.0.2.12"}}
PLATFORM_ON = ("--extra-vars", '{"preflight_check_platform": true, "preflight_roles": ["mysql_gr"]}')


def os_release():
    """This machine's release codename, as Ansible's distribution facts read it."""
    with open("/etc/os-release", encoding="utf-8") as handle:
        fields = dict(line.rstrip("\n").split("=", 1) for line in handle if "=" in line)
    return fields.get("VERSION_CODENAME", "").strip('"')


def test_a_release_without_mysql_server_stops_with_the_repository_path(run_playbook):
    rc, out = run_playbook("preflight.yml", pair_inventory(hosts=HOSTS, pair_vars={"mysql_gr_distribution_releases": ["none"]}),
                           *PLATFORM_ON)
    assert rc != 0, out
    release = os_release()
    assert f"n1: Debian {release}" in out or f" {release} (" in out, out
    assert "has no MySQL Server 8.4 or later in its own archive" in out
    assert "set mysql_gr_source: repository and mysql_gr_apt_repository" in out
    assert '"MySQL on Debian stable"' in out


def test_a_release_listed_as_having_mysql_server_passes(run_playbook):
    rc, out = run_playbook("preflight.yml",
                           pair_inventory(hosts=HOSTS, pair_vars={"mysql_gr_distribution_releases": [os_release()]}),
                           *PLATFORM_ON)
    assert rc == 0, out


def test_the_repository_path_passes_on_any_release(run_playbook):
    repository = {"uris": "https://repo.mysql.com/apt/debian", "suites": "bookworm",
                  "components": ["mysql-8.4-lts"], "signed_by": "https://repo.mysql.com/RPM-GPG-KEY-mysql-2023"}
    rc, out = run_playbook("preflight.yml",
                           pair_inventory(hosts=HOSTS, pair_vars={"mysql_gr_distribution_releases": ["none"],
                                                                  "mysql_gr_source": "repository",
                                                                  "mysql_gr_apt_repository": repository}),
                           *PLATFORM_ON)
    assert rc == 0, out


def test_a_repository_without_its_keys_is_named_before_any_host_is_read(run_playbook):
    rc, out = run_playbook("preflight.yml",
                           pair_inventory(pair_vars={"mysql_gr_source": "repository",
                                                     "mysql_gr_apt_repository": {"uris": "https://repo.mysql.com/apt/debian"}}),
                           "--extra-vars", '{"preflight_roles": ["mysql_gr"]}')
    assert rc != 0, out
    assert "mysql_gr_apt_repository lacks suites, components, signed_by" in out
