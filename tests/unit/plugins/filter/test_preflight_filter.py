"""The preflight filters: argument specs read from the roles, the rules on
values, typos, the inventory as a whole, and MySQL option-file quoting."""

from pathlib import Path

import pytest
import yaml
from ansible_collections.hapair.stack.plugins.filter.preflight import (
    check_value,
    mysql_option_value,
    preflight_host,
    preflight_inventory,
    preflight_specs,
)

ROLES = Path(__file__).resolve().parents[4] / "roles"
SPECS = preflight_specs(ROLES)
GROUPS = {"all": ["n1", "n2"], "hapair": ["n1", "n2"], "pair_t": ["n1", "n2"], "ungrouped": []}
GOOD = {"hapair_pair_group": "pair_t", "hapair_node_address": "192.0.2.11", "hapair_node_prefix": 24,
        "hapair_web_vip": "192.0.2.100", "hapair_reserved_vips": ["192.0.2.100", "192.0.2.101"]}


def host(**values):
    return preflight_host({**GOOD, **values}, SPECS, host="n1", groups=GROUPS)


def test_the_specs_come_from_every_role():
    assert {"keepalived", "mysql_gr", "kafka", "nginx", "preflight", "drill"} <= set(SPECS)
    assert SPECS["mysql_gr"]["options"]["mysql_gr_port"]["type"] == "int"
    assert SPECS["nginx"]["defaults"]["nginx_port"] == 80


def test_a_good_host_has_no_problem():
    assert host() == []


def test_monitoring_durations_are_prometheus_durations():
    """Not the seconds the *_interval and *_timeout rules expect elsewhere."""
    assert host(monitoring_evaluation_interval="5s", monitoring_group_interval="30s", monitoring_repeat_interval="1h",
                monitoring_probe_timeout="4s", monitoring_retention_time="2d", monitoring_scrape_interval="1m30s") == []


@pytest.mark.parametrize("app_host", ["%", "192.0.2.%", "192.0.2.0/255.255.255.0", "localhost", "2001:db8::%"])
def test_an_application_host_given_by_address_needs_no_name_lookup(app_host):
    assert host(mysql_gr_app_host=app_host) == []


def test_an_application_host_given_by_name_needs_name_resolution():
    problems = host(mysql_gr_app_host="app%.example.net")
    assert problems == ["n1: mysql_gr_app_host is 'app%.example.net', a host name, but the servers resolve no client "
                        "names (skip_name_resolve is ON in mysql_gr_base_settings); give addresses (for example "
                        "192.0.2.% or %), or set skip_name_resolve: \"OFF\" in mysql_gr_settings"]
    assert host(mysql_gr_app_host="app%.example.net", mysql_gr_settings={"skip_name_resolve": "OFF"}) == []


def test_alert_grouping_takes_label_names_or_each_alert_alone():
    assert host(monitoring_group_by=["..."]) == []
    assert host(monitoring_group_by=["alertname", "pair", "node"]) == []


def test_a_variable_a_role_adds_is_known_at_once(tmp_path):
    """A role's new variable is read from its argument spec: never a typo."""
    for role in ("keepalived", "preflight"):
        (tmp_path / role / "meta").mkdir(parents=True)
        (tmp_path / role / "meta" / "argument_specs.yml").write_text(
            (ROLES / role / "meta" / "argument_specs.yml").read_text())
    name = "keepalived_quorum_timeout"
    before = preflight_host({**GOOD, name: 3}, preflight_specs(tmp_path), host="n1", groups=GROUPS)
    assert before == [] or all(name not in p for p in before)
    spec = yaml.safe_load((tmp_path / "keepalived" / "meta" / "argument_specs.yml").read_text())
    spec["argument_specs"]["main"]["options"][name] = {"type": "int", "description": "x"}
    (tmp_path / "keepalived" / "meta" / "argument_specs.yml").write_text(yaml.safe_dump(spec))
    typo = "keepalived_quorum_timeuot"
    found = preflight_host({**GOOD, typo: 3}, preflight_specs(tmp_path), host="n1", groups=GROUPS)
    assert any(f"did you mean {name}?" in p for p in found), found
    found = preflight_host({**GOOD, name: "soon"}, preflight_specs(tmp_path), host="n1", groups=GROUPS)
    assert found == [f"n1: {name} is 'soon', which is not a whole number"]


@pytest.mark.parametrize(("values", "message"), [
    ({"keepalived_priorty": 100}, "n1: keepalived_priorty is not a variable of hapair.stack and is ignored; did you mean keepalived_priority?"),
    ({"mysql_gr_port": "3306abc"}, "n1: mysql_gr_port is '3306abc', which is not a whole number"),
    ({"mysql_gr_port": 70000}, "n1: mysql_gr_port is 70000; set a port from 1 to 65535"),
    ({"mysql_gr_port": True}, "n1: mysql_gr_port is True, which is not a whole number"),
    ({"kafka_heap": "10 GB"}, "n1: kafka_heap is '10 GB'; set a JVM heap size"),
    ({"kafka_archive_checksum": "sha512:abc"}, "n1: kafka_archive_checksum is 'sha512:abc'; set sha256:<64 hex digits>"),
    ({"keepalived_unicast": "flase"}, "n1: keepalived_unicast is 'flase', which is not true or false"),
    ({"hapair_node_prefix": 0}, "n1: hapair_node_prefix is 0; set the prefix length of the nodes' subnet, from 8 to 30"),
    ({"hapair_web_vip": "192.0.2.0", "hapair_reserved_vips": ["192.0.2.0"]}, "the network address of 192.0.2.0/24"),
    ({"hapair_web_vip": "192.0.2.150"}, "n1: hapair_web_vip is 192.0.2.150, which is not in hapair_reserved_vips"),
    ({"nginx_status_port": 3306}, "n1: nginx_status_port is 3306, which is also mysql_gr_port"),
    ({"nginx_access_log": False}, "quote it"),
    ({"canary_port": 8090}, "n1: nginx_upstream_port is 8080 but canary_port is 8090"),
    ({"mysql_gr_app_tables": [{"name": "t", "columns": "id INT", "privileges": "SELECT"}]},
     "n1: mysql_gr_app_tables[0].privileges is a text; it must be a list"),
    ({"sysctl_container": "maybe"}, "n1: sysctl_container is 'maybe'; choose one of auto, true, false"),
    ({"monitoring_evaluation_interval": "5"}, "n1: monitoring_evaluation_interval is '5'; set a Prometheus duration"),
    ({"monitoring_group_by": ["...", "node"]}, 'set ["..."] alone (each alert on its own) or a list of label names'),
    ({"monitoring_group_by": ["alert-name"]}, "set a Prometheus label name (letters, digits, '_')"),
])
def test_a_bad_value_is_named_with_a_good_one(values, message):
    problems = host(**values)
    assert any(message in p for p in problems), problems
    assert all(p.startswith("n1: ") for p in problems)


@pytest.mark.parametrize("value", [None, "", {"a": "Secret-in-dict-1"}, ["Secret-in-list-1"], True])
def test_a_bad_password_is_named_never_shown(value):
    problems = host(mysql_gr_monitor_password=value)
    assert len(problems) == 1 and problems[0].startswith("n1: mysql_gr_monitor_password is "), problems
    assert "Secret-in" not in problems[0]


@pytest.mark.parametrize("value", ["a\n}b", 'a"b', "123456789", "a b"])
def test_a_bad_vrrp_password_is_named_never_shown(value):
    problems = host(keepalived_auth_pass=value)
    assert problems == ["n1: keepalived_auth_pass is <hidden>; set 1 to 8 printable characters without spaces, quotes, "
                        "backslash, '#', '!', '{' or '}' (keepalived.conf has no quoting for it), or empty for none"]


@pytest.mark.parametrize(("name", "value"), [
    ("mysql_gr_port", "3306"), ("keepalived_unicast", "yes"), ("keepalived_vrrp_nice", None),
    ("nginx_access_log", "off"), ("kafka_heap", "512m"), ("keepalived_auth_pass", "s3-c.r@t"),
    ("mysql_gr_app_password", "any 'text' \"at\" all\n#!"), ("mysql_gr_recovery_password", 12345678),
    ("kafka_archive_checksum", "sha256:" + "0f" * 32), ("nginx_worker_processes", "auto"),
])
def test_a_good_unusual_value_passes(name, value):
    assert check_value(name, value, SPECS_OPTIONS[name]) == []


SPECS_OPTIONS = {name: opt for role in SPECS.values() for name, opt in role["options"].items()}


def test_a_value_built_from_a_role_default_is_left_to_the_role():
    from jinja2 import Undefined
    assert host(kafka_archive_src=Undefined(name="kafka_scala_version")) == []


def inventory(pairs, outside=None, witnesses=None):
    hostvars, groups = {}, {"all": [], "hapair": [], "hapair_witnesses": []}
    for number, (pair, extra) in enumerate(pairs.items(), start=1):
        hosts = [f"{pair}_{s}" for s in "ab"]
        groups[pair] = hosts
        groups["all"] += hosts
        if pair != outside:
            groups["hapair"] += hosts
        for last, name in enumerate(hosts, start=11):
            hostvars[name] = {"hapair_pair_group": pair, "hapair_node_address": f"10.{number}.0.{last}",
                              "hapair_web_vip": f"10.{number}.0.100", "keepalived_web_virtual_router_id": 2 * number - 1,
                              **extra}
    for pair, witness in (witnesses or {}).items():
        groups[witness] = [f"{witness}_1"]
        groups["all"].append(f"{witness}_1")
        hostvars[f"{witness}_1"] = {"hapair_pair_group": pair, "hapair_node_address": "10.9.9.9"}
        for name in groups[pair]:
            hostvars[name]["hapair_witness_group"] = witness
    return hostvars, groups


def test_good_pairs_pass_together():
    assert preflight_inventory(*inventory({"a": {}, "b": {}})) == []


def test_a_host_outside_every_pair_is_left_alone():
    """hapair_pair_group set for all hosts (group_vars/all) reaches hosts of no pair."""
    hostvars, groups = inventory({"a": {}})
    groups["all"].append("monitor")
    hostvars["monitor"] = {"hapair_pair_group": "a"}
    assert preflight_inventory(hostvars, groups) == []


@pytest.mark.parametrize(("pairs", "kwargs", "message"), [
    ({"a": {}, "b": {"keepalived_web_virtual_router_id": 1}}, {},
     "a (keepalived_web_virtual_router_id), b (keepalived_web_virtual_router_id): the VRRP router id 1 is used more than once"),
    ({"a": {"hapair_db_vip": "10.1.0.101"}, "b": {"keepalived_web_virtual_router_id": 2}}, {},
     "a (keepalived_db_virtual_router_id), b (keepalived_web_virtual_router_id): the VRRP router id 2"),
    ({"a": {}, "b": {"hapair_web_vip": "10.1.0.100"}}, {}, "the VIP 10.1.0.100 is given more than once"),
    ({"a": {}, "b": {"hapair_web_vip": "10.1.0.11"}}, {}, "b: hapair_web_vip is 10.1.0.11, the hapair_node_address of a_a"),
    ({"a": {}, "b": {"hapair_node_address": "10.1.0.11"}}, {}, "hapair_node_address is 10.1.0.11 on each"),
    ({"a": {}, "b": {}}, {"outside": "b"}, "b_a: hapair_pair_group is 'b', but b_a is not under the group hapair"),
    ({"a": {}}, {"outside": "a"}, "No host is under the group hapair"),
    ({"a": {}}, {"witnesses": {"a": "w"}}, "a: hapair_witness_group is 'w', whose host w_1 is not under the group hapair,"),
])
def test_a_rule_across_pairs_is_named(pairs, kwargs, message):
    problems = preflight_inventory(*inventory(pairs, **kwargs))
    assert any(message in p for p in problems), problems


def test_pair_variables_must_agree_and_secrets_stay_hidden():
    hostvars, groups = inventory({"a": {}})
    hostvars["a_b"]["keepalived_auth_pass"] = "Secret-x"
    hostvars["a_b"]["hapair_web_vip"] = "10.1.0.101"
    problems = preflight_inventory(hostvars, groups, pair_variables=["hapair_web_vip", "keepalived_auth_pass"], specs=SPECS)
    assert any("a: hapair_web_vip differs between its hosts (a_a='10.1.0.100', a_b='10.1.0.101')" in p for p in problems)
    assert any("keepalived_auth_pass differs" in p for p in problems)
    assert not any("Secret-x" in p for p in problems)


def mysql_reads(line):
    """The value MySQL reads from 'key = value' in an option file
    (mysys/my_default.cc: comment removal aware of quotes, quotes stripped,
    then escapes)."""
    value = line.split("=", 1)[1]
    quote, escape, end = None, False, len(value)
    for index, char in enumerate(value):
        if char in "'\"" and not escape:
            quote = char if quote is None else (None if quote == char else quote)
        if quote is None and char == "#":
            end = index
            break
        escape = quote is not None and char == "\\" and not escape
    value = value[:end].strip()
    if len(value) > 1 and value[0] in "'\"" and value[0] == value[-1]:
        value = value[1:-1]
    out, index = [], 0
    escapes = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "s": " ", '"': '"', "'": "'", "\\": "\\"}
    while index < len(value):
        char = value[index]
        if char == "\\" and index < len(value) - 1:
            index += 1
            out.append(escapes.get(value[index], "\\" + value[index]))
        else:
            out.append(char)
        index += 1
    return "".join(out)


@pytest.mark.parametrize("password", ["plain", 'q"uote', "sin'gle", "hash # here", "back\\slash\\", "new\nline",
                                      "tab\tx", " spaces ", "}{;[client]", "ünïcode"])
def test_a_password_survives_the_option_file(password):
    line = f"password = {mysql_option_value(password)}"
    assert "\n" not in line
    assert mysql_reads(line) == password


def test_the_monitor_option_file_quotes_the_password():
    template = (ROLES / "mysql_gr" / "templates" / "monitor.cnf.j2").read_text()
    assert "mysql_gr_monitor_password | hapair.stack.mysql_option_value" in template
