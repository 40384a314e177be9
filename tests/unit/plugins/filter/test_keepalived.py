"""Unit tests of the keepalived role's planning filters."""

import pytest

from ansible_collections.hapair.stack.plugins.filter.keepalived import (
    keepalived_pair_problems,
    keepalived_plan,
    parse_vip,
)

DEFAULTS = {
    "interface": "eth0", "prefix": 24, "priority": 150, "version": 3, "advert_int": 0.1,
    "preempt": False, "preempt_delay": 0, "auth_pass": "", "unicast": True,
    "unicast_src_ip": "192.0.2.11", "unicast_peers": ["192.0.2.12"],
}
WEB = {"name": "web", "virtual_router_id": "51", "vips": ["192.0.2.100"], "track_scripts": ["nginx"]}


def plan(host="ha1", instances=(WEB,), **overrides):
    return keepalived_plan(list(instances), host=host, defaults={**DEFAULTS, **overrides},
                           processes=[], scripts=[{"name": "nginx"}])


def test_an_instance_is_filled_from_the_defaults():
    result = plan()
    assert result["problems"] == []
    (web,) = result["instances"]
    assert web["virtual_router_id"] == 51 and web["priority"] == 150 and web["advert_int"] == 0.1
    assert web["vips"] == [{"address": "192.0.2.100", "prefix": 24, "cidr": "192.0.2.100/24"}]
    assert web["unicast_peers"] == ["192.0.2.12"] and web["preempt_delay"] == 0


def test_a_per_host_priority_mapping_wins():
    result = plan(instances=[{**WEB, "priority": {"ha1": 200}}])
    assert result["instances"][0]["priority"] == 200
    assert plan(host="ha2", instances=[{**WEB, "priority": {"ha1": 200}}], priority=90)["instances"][0]["priority"] == 90


def test_a_notify_master_script_and_its_user_are_kept():
    db = {"name": "db", "virtual_router_id": 52, "vips": ["192.0.2.101"],
          "notify_master": "/usr/local/lib/hapair/mysql-follow-vip", "notify_master_user": "root"}
    result = plan(instances=[WEB, db])
    assert result["problems"] == []
    web, planned = result["instances"]
    assert (web["notify_master"], web["notify_master_user"]) == ("", "")
    assert (planned["notify_master"], planned["notify_master_user"]) == ("/usr/local/lib/hapair/mysql-follow-vip", "root")


def test_multicast_has_no_peers():
    web = plan(unicast=False)["instances"][0]
    assert web["unicast"] is False and web["unicast_peers"] == [] and web["unicast_src_ip"] == ""


@pytest.mark.parametrize(("overrides", "instance", "message"), [
    ({}, {"virtual_router_id": 0}, "virtual_router_id 0 (keepalived_web_virtual_router_id) must be 1..255"),
    ({"priority": 255}, {}, "priority 255 must be 1..254"),
    ({"version": 2}, {}, "sub-second, which needs VRRP version 3"),
    ({"advert_int": 0.125}, {}, "multiple of 0.01 s"),
    ({"auth_pass": "x"}, {}, "VRRP version 3 has no authentication"),
    ({"version": 2, "advert_int": 1, "auth_pass": "123456789"}, {}, "at most 8"),
    # keepalived.conf has no quoting for auth_pass: a newline or '}' would end the block.
    ({"version": 2, "advert_int": 1, "auth_pass": "a\n}"}, {}, "auth_pass (keepalived_auth_pass) holds a space"),
    ({"version": 2, "advert_int": 1, "auth_pass": 'ab"c'}, {}, "auth_pass (keepalived_auth_pass) holds a space"),
    ({"version": 2, "advert_int": 1, "auth_pass": "a#b"}, {}, "auth_pass (keepalived_auth_pass) holds a space"),
    ({}, {"vips": ["192.0.2.100/33"]}, "is not an IP address with an optional /prefix (1..32 for IPv4"),
    ({"prefix": 0}, {}, "is not an IP address with an optional /prefix"),
    ({}, {"vips": []}, "vips is empty"),
    ({}, {"vips": ["not-an-ip"]}, "is not an IP address"),
    ({"unicast_peers": []}, {}, "keepalived_unicast_peers is empty"),
    ({}, {"track_scripts": ["mysql"]}, "track_scripts names 'mysql'"),
    ({}, {"name": "bad name"}, "must be a word"),
    ({}, {"notify_master": "relative/script"}, "notify_master 'relative/script' must be an absolute path"),
    ({}, {"notify_master": "/usr/local/bin/x", "notify_master_user": "root; rm"}, "must be a user name"),
])
def test_bad_inputs_are_named(overrides, instance, message):
    problems = plan(instances=[{**WEB, **instance}], **overrides)["problems"]
    assert any(message in p and p.startswith("ha1: keepalived_instances[0]") or message in p for p in problems), problems
    assert all(p.startswith("ha1: ") for p in problems)


def test_router_ids_and_vips_must_be_unique_across_instances():
    db = {"name": "db", "virtual_router_id": 51, "vips": ["192.0.2.100"]}
    problems = plan(instances=[WEB, db])["problems"]
    assert "ha1: keepalived_instances: virtual_router_id 51 is used by more than one instance (web, db); each needs its own" in problems
    assert "ha1: keepalived_instances: the VIP 192.0.2.100 is in more than one instance" in problems


def test_parse_vip():
    assert parse_vip("192.0.2.1/28", 24) == ("192.0.2.1", 28)
    assert parse_vip("192.0.2.1", 24) == ("192.0.2.1", 24)
    with pytest.raises(ValueError):
        parse_vip("nope", 24)


def pair(**ha2):
    return {
        "ha1": plan(),
        "ha2": plan(host="ha2", **{"priority": 100, "unicast_src_ip": "192.0.2.12", "unicast_peers": ["192.0.2.11"], **ha2}),
    }


def test_a_consistent_pair_has_no_problems():
    assert keepalived_pair_problems(pair()) == []


def test_pair_problems():
    assert keepalived_pair_problems(pair(priority=150)) == [
        "instance 'web': ha1, ha2 have the same priority 150; give each node its own "
        "(keepalived_priority per host, or the instance's priority mapping)"
    ]
    assert "advert_int (keepalived_advert_int) differs" in keepalived_pair_problems(pair(advert_int=1))[0]
    problems = keepalived_pair_problems(pair(unicast_peers=["192.0.2.99"]))
    assert any("ha2: instance 'web': keepalived_unicast_peers ['192.0.2.99'] lacks ha1's address" in p for p in problems)
    missing = {"ha1": plan(), "ha2": plan(host="ha2", instances=[], priority=100)}
    assert keepalived_pair_problems(missing) == [
        "ha2: keepalived_instances has no instance 'web', which ha1 has; both nodes of a pair need the same instances"
    ]


def test_a_problem_of_an_extra_instance_names_keepalived_extra_instances():
    extra = {"name": "x", "virtual_router_id": 60, "vips": ["192.0.2.150/33"]}
    problems = keepalived_plan([WEB, extra], host="ha1", defaults=DEFAULTS, extra_from=1)["problems"]
    assert any(p.startswith("ha1: keepalived_extra_instances[0] (x): vips holds") for p in problems), problems
