"""Unit tests of the sysctl role's planning filter."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.hapair.stack.plugins.filter.sysctl_plan import (
    FilterModule,
    key_path,
    merge_layers,
    sysctl_drift,
    sysctl_plan,
)

BASE = {
    "net.core.somaxconn": 65535,
    "net.ipv4.ip_local_port_range": "1024 65535",
    "net.ipv4.ip_nonlocal_bind": 1,
    "vm.max_map_count": 262144,
}


def keys(items):
    return [item["key"] for item in items]


def test_later_layers_win_and_null_drops_a_key():
    merged = merge_layers(
        {
            "sysctl_base_settings": BASE,
            "sysctl_settings": {"net.core.somaxconn": 4096, "vm.max_map_count": None},
            "sysctl_host_settings": {"net.core.somaxconn": 8192},
        }
    )
    assert merged["net.core.somaxconn"] == ("8192", "sysctl_host_settings")
    assert "vm.max_map_count" not in merged
    assert merged["net.ipv4.ip_nonlocal_bind"] == ("1", "sysctl_base_settings")


def test_values_are_normalized_as_the_kernel_prints_them():
    merged = merge_layers({"l": {"a.b": True, "a.c": False, "a.d": "1024\t 65535 ", "a.e": 0.5}})
    assert {k: v for k, (v, _unused) in merged.items()} == {"a.b": "1", "a.c": "0", "a.d": "1024 65535", "a.e": "0.5"}


@pytest.mark.parametrize(
    "value, kind",
    [({"x": 1}, "a dict"), ([1, 2], "a list"), (("a",), "a list")],
)
def test_non_scalar_values_fail_naming_key_and_variable(value, kind):
    with pytest.raises(AnsibleFilterError) as err:
        merge_layers({"sysctl_base_settings": BASE, "sysctl_settings": {"net.core.somaxconn": value}})
    assert "sysctl_settings" in str(err.value)
    assert "'net.core.somaxconn'" in str(err.value)
    assert kind in str(err.value)


@pytest.mark.parametrize("value", ["", "   ", "one\ntwo"])
def test_empty_or_multiline_values_fail(value):
    with pytest.raises(AnsibleFilterError, match="net.core.somaxconn"):
        merge_layers({"sysctl_host_settings": {"net.core.somaxconn": value}})


@pytest.mark.parametrize("key", ["somaxconn", "net core.somaxconn", "net.core.somaxconn=1", "Net.core.x", 42, ".net.x"])
def test_bad_key_names_fail_naming_the_key(key):
    with pytest.raises(AnsibleFilterError) as err:
        merge_layers({"sysctl_settings": {key: 1}})
    assert str(key) in str(err.value)
    assert "sysctl_settings" in str(err.value)


def test_a_layer_that_is_not_a_dict_fails_naming_it():
    with pytest.raises(AnsibleFilterError, match="sysctl_settings must be a dict"):
        merge_layers({"sysctl_settings": ["net.core.somaxconn=1"]})


def test_an_unset_layer_is_ignored():
    assert merge_layers({"sysctl_base_settings": BASE, "sysctl_host_settings": None})


def test_key_path_maps_dots_and_slashes():
    assert key_path("net.core.somaxconn") == "/proc/sys/net/core/somaxconn"
    assert key_path("net.ipv4.conf.eth0/100.rp_filter") == "/proc/sys/net/ipv4/conf/eth0.100/rp_filter"


def test_on_a_server_every_key_is_applied():
    plan = sysctl_plan({"sysctl_base_settings": BASE})
    assert keys(plan["apply"]) == sorted(BASE)
    assert plan["skipped"] == []


def test_in_a_container_host_global_keys_are_skipped_with_a_reason():
    layers = {"sysctl_base_settings": dict(BASE, **{"kernel.shmmax": 1, "fs.file-max": 1, "kernel.pid_max": 1})}
    plan = sysctl_plan(layers, in_container=True)
    assert keys(plan["apply"]) == [
        "kernel.shmmax",
        "net.core.somaxconn",
        "net.ipv4.ip_local_port_range",
        "net.ipv4.ip_nonlocal_bind",
    ]
    assert keys(plan["skipped"]) == ["fs.file-max", "kernel.pid_max", "vm.max_map_count"]
    assert all("host-global" in item["reason"] for item in plan["skipped"])


def test_namespaced_prefixes_can_be_given():
    plan = sysctl_plan({"l": BASE}, in_container=True, namespaced=["vm."])
    assert keys(plan["apply"]) == ["vm.max_map_count"]


def test_plan_items_carry_origin_and_path():
    plan = sysctl_plan({"sysctl_base_settings": BASE, "sysctl_host_settings": {"net.core.somaxconn": 1}})
    item = next(i for i in plan["apply"] if i["key"] == "net.core.somaxconn")
    assert item == {
        "key": "net.core.somaxconn",
        "value": "1",
        "origin": "sysctl_host_settings",
        "path": "/proc/sys/net/core/somaxconn",
    }


def test_drift_compares_tab_separated_kernel_output():
    apply = sysctl_plan({"l": BASE})["apply"]
    live = ["65535", "1024\t65535", "0", "262144"]
    assert keys(sysctl_drift(apply, live)) == ["net.ipv4.ip_nonlocal_bind"]
    assert sysctl_drift(apply, ["65535", "1024\t65535", "1", "262144"]) == []


def test_drift_refuses_output_of_another_length():
    apply = sysctl_plan({"l": BASE})["apply"]
    with pytest.raises(AnsibleFilterError, match="3 values for 4 keys"):
        sysctl_drift(apply, ["1", "2", "3"])


def test_filters_are_registered():
    assert set(FilterModule().filters()) == {"sysctl_plan", "sysctl_drift"}
