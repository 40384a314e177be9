"""Realistic wrong inventories, as a new user writes them, against
playbooks/preflight.yml: each one is stopped before any host is touched, with
a message that names the host (or pair) and the variable the user set; good
unusual inventories pass; no password of any case appears in any output.

The single-pair cases share one run: each case is a pair group of its own
(its own subnet 10.N.0.0/24 and router ids), so a case fails exactly as it
would alone; the playbook is the pairs' play of playbooks/preflight.yml with
any_errors_fatal off, so every case reports. (Its first play, the inventory
as a whole on localhost, would stop the run at the first case it catches;
the pairs' play runs the same checks on its first host instead, the
sentinel pair's, when localhost did not.) Each problem is one line that
starts with the host or pair it is about. test_a_case_alone_fails_the_run
runs some of them alone through the real playbook for the exit code. Cases
of the rules across pairs each run alone (they need two pairs).
"""

import json
import re
import subprocess
from dataclasses import dataclass, field

import pytest
import yaml
from ansible_collections.hapair.stack.tests.unit.playbook_runs import ANSIBLE_PLAYBOOK, COLLECTION, ansible_env
from ansible_collections.hapair.stack.tests.unit.playbooks.inventories import UNTOUCHABLE

PREFLIGHT = COLLECTION / "playbooks" / "preflight.yml"


@dataclass
class Case:
    id: str
    variable: str  # the variable the message must name
    pair: dict = field(default_factory=dict)  # pair group vars ("@S" is the case's subnet)
    hosts: dict = field(default_factory=dict)  # "a", "b", "w" -> host vars
    expect: str = ""  # a further part of the message
    witness: bool = False
    witness_vars: dict = field(default_factory=dict)


V2 = {"keepalived_vrrp_version": 2, "keepalived_advert_int": 1}

BAD = [
    # keepalived
    Case("kv_vrid_zero", "keepalived_web_virtual_router_id", {"keepalived_web_virtual_router_id": 0}, expect="set a VRRP router id from 1 to 255"),
    Case("kv_vrid_big", "keepalived_web_virtual_router_id", {"keepalived_web_virtual_router_id": 300}, expect="from 1 to 255"),
    Case("kv_vrid_text", "keepalived_web_virtual_router_id", {"keepalived_web_virtual_router_id": "fiftyone"}, expect="not a whole number"),
    Case("kv_db_vrid", "keepalived_db_virtual_router_id", {"hapair_db_vip": "@S.101", "keepalived_db_virtual_router_id": 256}),
    Case("kv_priority", "keepalived_priority", hosts={"a": {"keepalived_priority": 0}}, expect="from 1 to 254"),
    Case("kv_priority_typo", "keepalived_priorty", hosts={"a": {"keepalived_priorty": 200}}, expect="did you mean keepalived_priority?"),
    Case("kv_unicast_flase", "keepalived_unicast", {"keepalived_unicast": "flase"}, expect="not true or false"),
    Case("kv_auth_newline", "keepalived_auth_pass", {**V2, "keepalived_auth_pass": "Zq\n}Kx7"}, expect="<hidden>"),
    Case("kv_auth_long", "keepalived_auth_pass", {**V2, "keepalived_auth_pass": "Lp9longsecret"}),
    Case("kv_auth_dict", "keepalived_auth_pass", {**V2, "keepalived_auth_pass": {"pw": "Dk8dictsecret"}}, expect="hidden"),
    Case("kv_version", "keepalived_vrrp_version", {"keepalived_vrrp_version": 4}, expect="choose one of 2, 3"),
    Case("kv_advert_zero", "keepalived_advert_int", {"keepalived_advert_int": 0}),
    Case("kv_advert_text", "keepalived_advert_int", {"keepalived_advert_int": "fast"}, expect="not a number"),
    Case("kv_nice", "keepalived_vrrp_nice", {"keepalived_vrrp_nice": 25}, expect="from -20 to 19"),
    Case("kv_interface", "keepalived_interface", {"keepalived_interface": "eth0; rm -rf"}, expect="interface name"),
    Case("kv_preempt", "keepalived_preempt", {"keepalived_preempt": "maybe"}),
    Case("kv_peers_text", "keepalived_unicast_peers", hosts={"a": {"keepalived_unicast_peers": "@S.12"}}, expect="must be a list"),
    Case("kv_peers_bad", "keepalived_unicast_peers", hosts={"a": {"keepalived_unicast_peers": ["ha2"]}}, expect="an IP address"),
    Case("kv_track", "keepalived_nginx_track", {"keepalived_nginx_track": "poll"}, expect="choose one of auto, process, script"),
    Case("kv_same_priority", "keepalived_priority", hosts={"a": {"keepalived_priority": 100}, "b": {"keepalived_priority": 100}},
         expect="have the same priority 100"),
    Case("kv_extra_prefix", "keepalived_extra_instances",
         {"keepalived_extra_instances": [{"name": "x", "virtual_router_id": 250, "vips": ["@S.101/33"]}]}, expect="/prefix"),
    # mysql_gr
    Case("my_port_abc", "mysql_gr_port", {"mysql_gr_port": "3306abc"}, expect="not a whole number"),
    Case("my_port_big", "mysql_gr_port", {"mysql_gr_port": 70000}, expect="a port from 1 to 65535"),
    Case("my_port_zero", "mysql_gr_port", {"mysql_gr_port": 0}),
    Case("my_port_clash", "mysql_gr_port", {"mysql_gr_port": 80}, expect="every service of a node needs its own port"),
    Case("my_recovery_null", "mysql_gr_recovery_password", {"mysql_gr_recovery_password": None}, expect="null; set a password"),
    Case("my_monitor_dict", "mysql_gr_monitor_password", {"mysql_gr_monitor_password": {"v": "Mo7dictsecret"}}, expect="not a text"),
    Case("my_app_list", "mysql_gr_app_password", {"mysql_gr_app_password": ["Ap5listsecret"]}),
    Case("my_app_empty", "mysql_gr_app_password", {"mysql_gr_app_password": ""}, expect="empty"),
    Case("my_app_bool", "mysql_gr_app_password", {"mysql_gr_app_password": True}),
    Case("my_server_id_zero", "mysql_gr_server_id", hosts={"a": {"mysql_gr_server_id": 0}}),
    Case("my_server_id_text", "mysql_gr_server_id", hosts={"a": {"mysql_gr_server_id": "one"}}),
    Case("my_weight", "mysql_gr_member_weight", hosts={"a": {"mysql_gr_member_weight": 101}}, expect="from 0 to 100"),
    Case("my_group_name", "mysql_gr_group_name", {"mysql_gr_group_name": "shop"}, expect="a UUID"),
    Case("my_app_user", "mysql_gr_app_user", {"mysql_gr_app_user": "app'; DROP USER root; --"}, expect="MySQL account name"),
    Case("my_app_database", "mysql_gr_app_database", {"mysql_gr_app_database": "my-db"}),
    Case("my_app_host", "mysql_gr_app_host", {"mysql_gr_app_host": "10.0.0.%'"}),
    Case("my_recovery_user_long", "mysql_gr_recovery_user", {"mysql_gr_recovery_user": "r" * 40}),
    Case("my_seeds_text", "mysql_gr_group_seeds", {"mysql_gr_group_seeds": "@S.11:3306,@S.12:3306"}, expect="must be a list"),
    Case("my_seeds_port", "mysql_gr_group_seeds", {"mysql_gr_group_seeds": ["@S.11:abc", "@S.12:3306"]}),
    Case("my_bootstrap", "mysql_gr_bootstrap_host", {"mysql_gr_bootstrap_host": "ghost"}, expect="no node of its pair"),
    Case("my_source", "mysql_gr_source", {"mysql_gr_source": "ppa"}, expect="choose one of distribution, repository"),
    Case("my_settings_newline", "mysql_gr_settings", {"mysql_gr_settings": {"max_connections": "10\ninit_file=/tmp/x"}},
         expect="line break"),
    Case("my_settings_list", "mysql_gr_settings", {"mysql_gr_settings": ["max_connections=10"]}, expect="must be a mapping"),
    Case("my_tables", "mysql_gr_app_tables", {"mysql_gr_app_tables": [{"name": "t"}]}, expect="lacks columns"),
    Case("my_table_name", "mysql_gr_app_tables",
         {"mysql_gr_app_tables": [{"name": "t; DROP TABLE x", "columns": "id INT PRIMARY KEY", "privileges": ["SELECT"]}]},
         expect="table names"),
    Case("my_table_privilege", "mysql_gr_app_tables",
         {"mysql_gr_app_tables": [{"name": "t", "columns": "id INT PRIMARY KEY", "privileges": ["ALL; GRANT"]}]},
         expect="table privileges"),
    Case("my_follow_timeout", "mysql_gr_follow_transaction_timeout", {"mysql_gr_follow_transaction_timeout": 5000}),
    Case("my_expel", "mysql_gr_member_expel_timeout", {"mysql_gr_member_expel_timeout": -1}),
    Case("my_witness_weight", "mysql_gr_member_weight", witness=True, witness_vars={"mysql_gr_member_weight": 50},
         expect="a witness must have 0"),
    Case("my_monitor_typo", "mysql_gr_monitor_pasword", {"mysql_gr_monitor_pasword": "Ty3typosecret"},
         expect="did you mean mysql_gr_monitor_password?"),
    # kafka
    Case("ka_heap", "kafka_heap", {"kafka_heap": "10 GB"}, expect="-Xmx"),
    Case("ka_checksum_short", "kafka_archive_checksum", {"kafka_archive_checksum": "sha512:abcdef0123"}, expect="128 hex digits"),
    Case("ka_checksum_md5", "kafka_archive_checksum", {"kafka_archive_checksum": "md5:" + "a" * 32}),
    Case("ka_cluster_id", "kafka_cluster_id", {"kafka_cluster_id": "short"}, expect="22 characters"),
    Case("ka_port_big", "kafka_client_port", {"kafka_client_port": 99092}),
    Case("ka_port_clash", "kafka_controller_port", {"kafka_client_port": 9093}, expect="which is also kafka_client_port"),
    Case("ka_topic_name", "kafka_topics", {"kafka_topics": [{"name": "bad name!"}]}),
    Case("ka_version", "kafka_version", {"kafka_version": "latest"}, expect="release number"),
    Case("ka_user", "kafka_user", {"kafka_user": "Kafka User"}),
    Case("ka_properties", "kafka_server_properties", {"kafka_server_properties": {"log.dirs": {"a": 1}}}, expect="plain values"),
    Case("ka_protocols", "kafka_listener_protocols",
         {"kafka_listener_protocols": {"CLIENT": "TLS", "REPLICATION": "PLAINTEXT", "CONTROLLER": "PLAINTEXT"}},
         expect="not 'TLS' for CLIENT"),
    Case("ka_witness_group", "kafka_witness_group", {"kafka_witness_group": "other_w"}, witness=True,
         expect="leave kafka_witness_group unset"),
    # log shippers
    Case("fl_heap", "flume_heap", {"flume_heap": "256MB"}),
    Case("fl_channel", "flume_channel", {"flume_channel": "memory"}, expect="choose one of file, kafka"),
    Case("fl_batch", "flume_batch_size", {"flume_batch_size": 0}),
    Case("fl_source_name", "flume_sources", {"flume_sources": [{"name": "a-b", "path": "/var/log/x", "topic": "t"}]}),
    Case("fl_bootstrap", "flume_kafka_bootstrap", {"flume_kafka_bootstrap": "@S.11"}, expect="host:port"),
    Case("rs_brokers", "rsyslog_kafka_brokers", {"rsyslog_kafka_brokers": ["kafka1"]}, expect="host:port"),
    Case("rs_source_path", "rsyslog_kafka_sources", {"rsyslog_kafka_sources": [{"name": "a", "path": "rel.log", "topic": "t"}]}),
    Case("log_shipper", "hapair_log_shipper", {"hapair_log_shipper": "fluentd"}, expect="flume, rsyslog"),
    # nginx
    Case("ng_port", "nginx_port", {"nginx_port": 0}),
    Case("ng_access_log_bool", "nginx_access_log", {"nginx_access_log": False}, expect="quote it"),
    Case("ng_workers", "nginx_worker_processes", {"nginx_worker_processes": "many"}, expect="auto or a number"),
    Case("ng_upstreams", "nginx_upstreams", {"nginx_upstreams": ["canary"]}, expect="host:port"),
    Case("ng_status_clash", "nginx_status_port", {"nginx_status_port": 80}, expect="which is also nginx_port"),
    Case("ng_listen", "nginx_listen_addresses", {"nginx_listen_addresses": ["*"]}),
    # canary
    Case("ca_db_table", "canary_db_table", {"canary_db_table": "writes`; --"}, expect="a table name"),
    Case("ca_port", "canary_port", {"canary_port": 8081}, expect="which is also nginx_status_port"),
    # sysctl
    Case("sy_list", "sysctl_settings", {"sysctl_settings": {"net.core.somaxconn": [1, 2]}}),
    Case("sy_text", "sysctl_settings", {"sysctl_settings": "net.core.somaxconn=1"}, expect="must be a mapping"),
    Case("sy_container", "sysctl_container", {"sysctl_container": "maybe"}, expect="choose one of auto, true, false"),
    # the pair and its topology
    Case("tp_prefix_zero", "hapair_node_prefix", {"hapair_node_prefix": 0}, expect="from 8 to 30"),
    Case("tp_prefix_33", "hapair_node_prefix", {"hapair_node_prefix": 33}, expect="from 8 to 30"),
    Case("tp_prefix_text", "hapair_node_prefix", {"hapair_node_prefix": "24abc"}, expect="not a whole number"),
    Case("tp_vip_network", "hapair_web_vip", {"hapair_web_vip": "@S.0", "hapair_reserved_vips": ["@S.0"]},
         expect="the network address"),
    Case("tp_vip_broadcast", "hapair_web_vip", {"hapair_web_vip": "@S.255", "hapair_reserved_vips": ["@S.255"]},
         expect="the broadcast address"),
    Case("tp_vip_unreserved", "hapair_web_vip", {"hapair_web_vip": "@S.150"}, expect="not in hapair_reserved_vips"),
    Case("tp_vip_outside", "hapair_web_vip", {"hapair_web_vip": "192.168.250.1", "hapair_reserved_vips": ["192.168.250.1"]},
         expect="outside the nodes' subnet"),
    Case("tp_vip_text", "hapair_web_vip", {"hapair_web_vip": "web.example.com"}, expect="an IP address"),
    Case("tp_db_is_web", "hapair_db_vip", {"hapair_db_vip": "@S.100"}, expect="the same as hapair_web_vip"),
    Case("tp_address_bad", "hapair_node_address", hosts={"a": {"hapair_node_address": "@S.300"}}),
    Case("tp_address_cidr", "hapair_node_address", hosts={"a": {"hapair_node_address": "@S.11/24"}}),
    Case("tp_address_same", "hapair_node_address", hosts={"b": {"hapair_node_address": "@S.11"}}, expect="on each"),
    Case("tp_reserved_node", "hapair_reserved_vips", {"hapair_reserved_vips": ["@S.100", "@S.12"]}, expect="is a node address"),
    Case("tp_vip_differs", "hapair_web_vip", hosts={"b": {"hapair_web_vip": "@S.101"}}, expect="differs between its hosts"),
    Case("tp_witness_group", "hapair_witness_group", {"hapair_witness_group": "w_nowhere"}),
    Case("tp_witness_unmarked", "hapair_witness_group", witness=True, witness_vars={"__unmarked": True},
         expect="hapair_witnesses"),
    Case("tp_pair_group_name", "hapair_pair_group", hosts={"a": {"hapair_pair_group": "p tp"}}),
    Case("tp_typo", "hapair_web_vipp", {"hapair_web_vipp": "@S.100"}, expect="did you mean hapair_web_vip?"),
]

GOOD = [
    # VRRP v2 with a password of punctuation, a preferred node, preemption.
    Case("ok_v2_auth", "", {**V2, "keepalived_auth_pass": "s3-c.r@t", "keepalived_preempt": True},
         hosts={"a": {"keepalived_priority": 200}}),
    # Passwords with every character an option file or SQL finds hard.
    Case("ok_hostile_passwords", "", {"mysql_gr_monitor_password": "Hq'\"#;\\ }{\n\tx",
                                      "mysql_gr_app_password": "Ap p#\"quote'",
                                      "mysql_gr_recovery_password": 12345678}),
    # A wide subnet, VIPs far from the nodes, a database VIP, custom distinct ports.
    Case("ok_wide_subnet", "", {"hapair_node_prefix": 16, "hapair_web_vip": "@S.200", "hapair_db_vip": "@S.201",
                                "hapair_reserved_vips": ["@S.200", "@S.201"], "mysql_gr_port": 13306,
                                "nginx_port": 8088, "nginx_status_port": 8089, "kafka_client_port": 19092}),
    # Values as an INI inventory gives them: numbers and booleans as text.
    Case("ok_text_values", "", {"mysql_gr_port": "3306", "keepalived_unicast": "yes", "keepalived_vrrp_nice": None,
                                "nginx_access_log": "off", "nginx_worker_processes": "4"}),
    # rsyslog instead of Flume, sha256 checksums, heaps in k and G.
    Case("ok_rsyslog", "", {"hapair_log_shipper": "rsyslog", "kafka_archive_checksum": "sha256:" + "0f" * 32,
                            "kafka_heap": "2G", "flume_heap": "524288k"}),
    # A witness.
    Case("ok_witness", "", witness=True),
    # A variable of the inventory's own, close to a real one, declared.
    Case("ok_known_variable", "", {"nginx_ports": [8443], "preflight_known_variables": ["nginx_ports"]}),
]


def _subnet(number):
    return f"10.{number}.0"


def _render(value, subnet):
    return json.loads(json.dumps(value).replace("@S", subnet))


def _secrets(value):
    """Every password-like string of a case's variables."""
    found = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key.endswith(("_password", "_pass", "_pasword")):
                found += [s for s in _strings(item) if s]
            else:
                found += _secrets(item)
    return found


def _strings(value):
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [str(value)] if value not in (None, True, False) else []


def case_groups(case, number):
    """The groups of one case: its pair (p_<id>) and maybe its witness (w_<id>)."""
    subnet = _subnet(number)
    pair, witness = f"p_{case.id}", f"w_{case.id}"
    base = {
        "hapair_pair_group": pair,
        "hapair_node_prefix": 24,
        "hapair_web_vip": f"{subnet}.100",
        "hapair_reserved_vips": [f"{subnet}.100", f"{subnet}.101"],
        "keepalived_web_virtual_router_id": 2 * number - 1,
        "kafka_archive_checksum": "sha512:" + "ab" * 64,
        "flume_archive_checksum": "sha512:" + "cd" * 64,
        "mysql_gr_recovery_password": f"Rc-{case.id}-9q",
        "mysql_gr_monitor_password": f"Mn-{case.id}-9q",
        "mysql_gr_checksum_password": f"Ck-{case.id}-9q",
        "mysql_gr_app_password": f"Ap-{case.id}-9q",
    }
    if case.witness:
        base["hapair_witness_group"] = witness
    pair_vars = {**base, **_render(case.pair, subnet)}
    hosts = {}
    for suffix, last in (("a", 11), ("b", 12)):
        hosts[f"{case.id}_{suffix}"] = {**UNTOUCHABLE, "hapair_node_address": f"{subnet}.{last}",
                                        **_render(case.hosts.get(suffix, {}), subnet)}
    groups = {pair: {"vars": pair_vars, "hosts": hosts}}
    marked = []
    if case.witness:
        witness_vars = dict(case.witness_vars)
        unmarked = witness_vars.pop("__unmarked", False)
        groups[witness] = {
            "vars": {**pair_vars, **_render(witness_vars, subnet)},
            "hosts": {f"{case.id}_w": {**UNTOUCHABLE, "hapair_node_address": f"{subnet}.13"}},
        }
        if not unmarked:
            marked.append(witness)
    return groups, marked


def inventory(cases, first=1):
    children, marked = {}, []
    for number, case in enumerate(cases, start=first):
        groups, witnesses = case_groups(case, number)
        children.update(groups)
        marked += witnesses
    inv = {"all": {"children": {"hapair": {"children": children}}}}
    inv["all"]["children"]["hapair_witnesses"] = {"children": {w: {} for w in marked}}
    return inv


def batch_playbook(path):
    """The pairs' play of playbooks/preflight.yml, with any_errors_fatal off: every case reports."""
    plays = [p for p in yaml.safe_load(PREFLIGHT.read_text()) if p["hosts"] == "hapair"]
    assert len(plays) == 1
    for play in plays:
        play["any_errors_fatal"] = False
    path.write_text(yaml.safe_dump(plays, sort_keys=False))
    return path


def run(playbook, inv, work, *args):
    (work / "hosts.yml").write_text(yaml.safe_dump(inv))
    env = ansible_env(
        work,
        ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json",
        ANSIBLE_CALLBACK_RESULT_FORMAT="json",
        ANSIBLE_FORKS="20",
    )
    proc = subprocess.run(
        [ANSIBLE_PLAYBOOK, "-i", str(work / "hosts.yml"), str(playbook), "--diff",
         # These hosts are unreachable: the preflight's read of each host's OS release is off.
         "--extra-vars", '{"preflight_check_platform": false}', *args],
        cwd=work, env=env, capture_output=True, text=True, timeout=600, check=False,
    )
    assert proc.stdout.strip(), proc.stderr
    assert_no_secret(inv, proc.stdout + proc.stderr)
    result = json.loads(proc.stdout)
    failures = {}
    for play in result["plays"]:
        for task in play["tasks"]:
            for host, outcome in task["hosts"].items():
                if outcome.get("failed"):
                    failures.setdefault(host, []).append(str(outcome.get("msg", "")))
                for item in outcome.get("results", []) or []:
                    if item.get("failed"):
                        failures.setdefault(host, []).append(str(item.get("msg", "")))
    return proc, failures, result["stats"]


@pytest.fixture(scope="module")
def batch(tmp_path_factory, shared_run):
    def make():
        work = tmp_path_factory.mktemp("bad_inventories")
        return run(batch_playbook(work / "preflight.yml"), inventory([SENTINEL] + BAD + GOOD), work)

    return shared_run("bad_inventories_batch", make)


# The first pair of the batch: its first host runs the checks of the
# inventory as a whole (run_once), so it fails with the other cases' problems.
SENTINEL = Case("aa_sentinel", "")


def names_the_variable(problem, variable):
    return re.search(rf"\b{re.escape(variable)}\b", problem) is not None


def case_messages(case, failures):
    """The case's hosts, and the problems about them: every line of their own
    failures, and every line of another host's (the checks of the inventory as
    a whole) that starts with the case's hosts or pair."""
    hosts = [f"{case.id}_{s}" for s in "abw"]
    start = re.compile(rf"^({'|'.join(map(re.escape, hosts + [f'p_{case.id}']))})[:,]")
    own = [line.strip() for h in hosts for message in failures.get(h, []) for line in message.splitlines()]
    others = [line.strip() for h, found in failures.items() if h not in hosts
              for message in found for line in message.splitlines()]
    return hosts, own + [line for line in others if start.match(line)]


def test_there_are_enough_cases_across_every_role():
    assert len(BAD) >= 60
    prefixes = {c.variable.split("_")[0] for c in BAD}
    assert {"keepalived", "mysql", "kafka", "flume", "rsyslog", "nginx", "sysctl", "hapair"} <= prefixes
    assert len({c.id for c in BAD + GOOD}) == len(BAD + GOOD)


def test_the_batch_fails_and_touches_no_host(batch):
    proc, _unused, stats = batch
    assert proc.returncode == 2, proc.stderr
    output = proc.stdout + proc.stderr
    assert "UNREACHABLE!" not in output
    assert all(s["unreachable"] == 0 for s in stats.values()), stats


@pytest.mark.parametrize("case", BAD, ids=[c.id for c in BAD])
def test_a_bad_inventory_is_stopped_naming_the_variable(batch, case):
    _unused, failures, stats = batch
    hosts, messages = case_messages(case, failures)
    failed = [h for h in hosts if stats.get(h, {}).get("failures")]
    assert failed or messages, f"{case.id}: passed the preflight"
    assert any(names_the_variable(m, case.variable) and case.expect in m for m in messages), messages


@pytest.mark.parametrize("case", GOOD, ids=[c.id for c in GOOD])
def test_a_good_unusual_inventory_passes(batch, case):
    _unused, failures, stats = batch
    hosts, messages = case_messages(case, failures)
    assert not messages
    for host in hosts:
        if host in stats:
            assert stats[host]["failures"] == 0 and stats[host]["ok"] > 20, stats[host]


def assert_no_secret(inv, output):
    """No password of the inventory, as it is or as JSON writes it, in output."""
    secrets = set(_secrets(inv))
    for secret in secrets:
        for form in (secret, json.dumps(secret)[1:-1]):
            assert form not in output, f"a password is in the output: {secret!r}"
    return secrets


def test_no_password_appears_in_any_output(batch):
    """Every run asserts it (run()); here the count of passwords searched."""
    proc, _unused, _unused = batch
    secrets = assert_no_secret(inventory([SENTINEL] + BAD + GOOD), proc.stdout + proc.stderr)
    assert len(secrets) > 3 * len(BAD)


# Run alone through the real playbook: the exit code, and the same message.
@pytest.mark.parametrize("case_id", ["my_port_abc", "kv_auth_newline", "tp_vip_unreserved", "tp_address_same"])
def test_a_case_alone_fails_the_run(case_id, tmp_path):
    case = next(c for c in BAD if c.id == case_id)
    proc, failures, stats = run(PREFLIGHT, inventory([case]), tmp_path)
    assert proc.returncode == 2
    assert all(s["unreachable"] == 0 for s in stats.values())
    _unused, messages = case_messages(case, failures)
    assert any(names_the_variable(m, case.variable) and case.expect in m for m in messages), messages


def two_pairs(first=None, second=None, second_hosts=None):
    """Two good pairs in one inventory (10.1.0.0/24 and 10.2.0.0/24), changed by a test."""
    one, two = Case("one", ""), Case("two", "")
    inv = inventory([one, two])
    children = inv["all"]["children"]["hapair"]["children"]
    children["p_one"]["vars"]["keepalived_web_virtual_router_id"] = 51
    children["p_two"]["vars"]["keepalived_web_virtual_router_id"] = 61
    children["p_one"]["vars"].update(first or {})
    children["p_two"]["vars"].update(second or {})
    for host, host_vars in (second_hosts or {}).items():
        children["p_two"]["hosts"][host].update(host_vars)
    return inv


def pair_outside_hapair():
    inv = two_pairs()
    inv["all"]["children"]["p_two"] = inv["all"]["children"]["hapair"]["children"].pop("p_two")
    return inv


def only_pair_outside_hapair():
    inv = inventory([Case("one", "")])
    inv["all"]["children"] = {"p_one": inv["all"]["children"]["hapair"]["children"]["p_one"]}
    return inv


def witness_outside_hapair():
    inv = inventory([Case("one", "", witness=True)])
    inv["all"]["children"]["w_one"] = inv["all"]["children"]["hapair"]["children"].pop("w_one")
    return inv


MULTI = {
    "same_router_id": (two_pairs(second={"keepalived_web_virtual_router_id": 51}), "keepalived_web_virtual_router_id",
                       "the VRRP router id 51 is used more than once"),
    "db_router_id_is_web": (two_pairs(first={"hapair_db_vip": "10.1.0.101"}, second={"keepalived_web_virtual_router_id": 52}),
                            "keepalived_db_virtual_router_id", "the VRRP router id 52 is used more than once"),
    "same_web_vip": (two_pairs(second={"hapair_web_vip": "10.1.0.100", "hapair_node_prefix": 16,
                                       "hapair_reserved_vips": ["10.1.0.100"]}),
                     "hapair_web_vip", "the VIP 10.1.0.100 is given more than once"),
    "db_vip_is_other_web": (two_pairs(first={"hapair_db_vip": "10.1.0.101"},
                                      second={"hapair_db_vip": "10.1.0.100", "hapair_node_prefix": 16,
                                              "hapair_reserved_vips": ["10.2.0.100", "10.1.0.100"]}),
                            "hapair_db_vip", "the VIP 10.1.0.100 is given more than once"),
    "same_node_address": (two_pairs(second_hosts={"two_a": {"hapair_node_address": "10.1.0.11"}}),
                          "hapair_node_address", "one_a, two_a: hapair_node_address is 10.1.0.11 on each"),
    "vip_is_other_node": (two_pairs(second={"hapair_web_vip": "10.1.0.12", "hapair_node_prefix": 16,
                                            "hapair_reserved_vips": ["10.1.0.12"]}),
                          "hapair_web_vip", "the hapair_node_address of one_b"),
    "shared_reserved": (two_pairs(second={"hapair_reserved_vips": ["10.2.0.100", "10.1.0.101"]}),
                        "hapair_reserved_vips", "reserve each address for one pair only"),
    "pair_outside_hapair": (pair_outside_hapair(), "hapair_pair_group", "is not under the group hapair"),
    "only_pair_outside_hapair": (only_pair_outside_hapair(), "hapair_pair_group", "site.yml would skip it"),
    "witness_outside_hapair": (witness_outside_hapair(), "hapair_witness_group", "is not under the group hapair"),
}


@pytest.mark.parametrize("case", list(MULTI))
def test_a_rule_across_pairs_stops_the_run(case, tmp_path):
    inv, variable, expect = MULTI[case]
    proc, failures, stats = run(PREFLIGHT, inv, tmp_path)
    assert proc.returncode == 2, proc.stdout[-2000:]
    assert all(s["unreachable"] == 0 for s in stats.values())
    # Stopped before any pair's host ran a task.
    assert set(stats) == {"localhost"}, stats
    messages = failures.get("localhost", [])
    assert any(variable in m and expect in m for m in messages), messages


def test_two_good_pairs_pass(tmp_path):
    proc, failures, _unused = run(PREFLIGHT, two_pairs(), tmp_path)
    assert proc.returncode == 0, failures
