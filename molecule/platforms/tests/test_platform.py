"""The platforms list (tests/platforms.yml) says what this scenario tests:
its nodes run the suite named there, and every role listed for that suite
does its job, checked the way a user would. MySQL, which the suite does not
ship, is stopped by the preflight with the repository path."""

import json
import time
import urllib.request
import uuid

import pytest

# The roles' checks, by role: each takes the pair fixture. A role listed for
# the suite without a check here fails test_every_listed_role_has_a_check.
CHECKS = {}


def check(role):
    def register(function):
        CHECKS[role] = function
        return function
    return register


def get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as answer:  # noqa: S310 - the scenario's own nodes
        return answer.status, answer.read().decode("utf-8", "replace")


def holders(pair):
    """The nodes whose eth0 holds the web VIP."""
    found = []
    for node, host in pair["hosts"].items():
        addresses = json.loads(host.check_output("ip -j addr show dev eth0"))[0]["addr_info"]
        if any(a["local"] == pair["web_vip"] for a in addresses):
            found.append(node)
    return found


@check("sysctl")
def sysctl_values_are_live(pair):
    for node, host in pair["hosts"].items():
        lines = [line for line in host.file("/etc/sysctl.d/90-hapair.conf").content_string.splitlines()
                 if line and not line.startswith("#")]
        written = dict(line.split(" = ", 1) for line in lines)
        assert written, f"{node}: no parameter written"
        live = {key: " ".join(host.check_output(f"sysctl -n {key}").split()) for key in written}
        assert live == written, node


@check("canary")
def the_canary_answers_as_its_node(pair):
    for node, address in pair["address"].items():
        status, body = get(f"http://{address}:8080/health")
        assert status == 200 and json.loads(body)["node"] == node


@check("nginx")
def nginx_answers_on_the_web_vip(pair):
    status, body = get(f"http://{pair['web_vip']}/")
    assert status == 200
    assert json.loads(body)["node"] in pair["nodes"]


@check("keepalived")
def exactly_one_node_holds_the_web_vip(pair):
    assert len(holders(pair)) == 1, holders(pair)


@check("health_gate")
def the_gates_vip_module_sees_one_master(pair):
    masters = []
    for node, host in pair["hosts"].items():
        status = host.ansible("hapair.stack.vip_status", check=False, become=True)
        assert status["keepalived_running"], node
        if pair["web_vip"] in status["held"]:
            masters.append(node)
    assert masters == holders(pair)


@check("kafka")
def kafka_is_healthy_through_the_modules_and_the_os_client(pair):
    first = pair["nodes"][0]
    host = pair["hosts"][first]
    # The modules run with the Kafka client the OS ships (Debian's
    # python3-kafka), nothing installed beside it.
    package = host.package("python3-kafka")
    assert package.is_installed
    where, version = host.check_output("python3 -c 'import kafka; print(kafka.__file__, kafka.__version__)'").split()
    assert where.startswith("/usr/lib/python3/dist-packages/kafka/")
    assert package.version.startswith(version + "-")
    status = host.ansible("hapair.stack.kafka_status", f"bootstrap_servers={pair['address'][first]}:9092",
                          check=False, become=True)
    assert status["healthy"], status["reasons"]
    assert [b["id"] for b in status["brokers"]] == [1, 2]
    assert status["quorum"]["leader_id"] in (1, 2)
    assert sorted(v["id"] for v in status["quorum"]["voters"]) == [1, 2]


@check("rsyslog_kafka")
def a_request_through_the_vip_reaches_the_other_nodes_broker(pair):
    marker = uuid.uuid4().hex
    since = int(time.time() * 1000) - 1000
    assert get(f"http://{pair['web_vip']}/?platforms={marker}")[0] == 200
    holder = holders(pair)[0]
    other = next(n for n in pair["nodes"] if n != holder)
    found = pair["hosts"][other].ansible(
        "hapair.stack.kafka_search",
        f"bootstrap_servers={pair['address'][other]}:9092 topic=hapair-access needle=platforms={marker} "
        f"since_ms={since} timeout=20", check=False, become=True)
    assert found["found"], found


@check("preflight")
def the_preflight_reads_the_release_and_passes_the_repository_path(pair):
    pass  # test_the_repository_path_passes_the_preflight


def test_every_listed_role_has_a_check(suite):
    assert sorted(suite["roles"]) == sorted(CHECKS)


def test_each_node_runs_the_listed_suite_with_a_clean_systemd(pair, suite):
    for node, host in pair["hosts"].items():
        release = dict(line.split("=", 1) for line in host.file("/etc/os-release").content_string.splitlines()
                       if "=" in line)
        assert release["VERSION_CODENAME"].strip('"') == suite["release"], node
        assert host.run("systemctl is-system-running").stdout.strip() == "running", node


@pytest.mark.parametrize("role", sorted(CHECKS))
def test_role_works_on_the_suite(role, pair, suite):
    if role not in suite["roles"]:
        pytest.fail(f"{role} has a check but tests/platforms.yml does not list it for {suite['suite']}")
    CHECKS[role](pair)


def test_mysql_from_the_distribution_stops_in_preflight_naming_the_suite_and_the_repository(preflight, suite):
    rc, out = preflight({"preflight_roles": ["mysql_gr"]})
    assert rc != 0, out
    assert f"Debian {suite['release']} (" in out
    assert "has no MySQL Server 8.4 or later in its own archive" in out
    assert "set mysql_gr_source: repository and mysql_gr_apt_repository" in out
    assert '"MySQL on Debian stable"' in out
    # It stops before anything is installed: no MySQL on the nodes.
    assert "changed=0" in out and "changed=1" not in out


def test_the_repository_path_passes_the_preflight(preflight):
    rc, out = preflight({
        "preflight_roles": ["mysql_gr"],
        "mysql_gr_source": "repository",
        "mysql_gr_apt_repository": {"uris": "https://repo.mysql.com/apt/debian", "suites": "bookworm",
                                    "components": ["mysql-8.4-lts"],
                                    "signed_by": "https://repo.mysql.com/RPM-GPG-KEY-mysql-2023"},
    })
    assert rc == 0, out
    assert "Read the host's OS release" in out
