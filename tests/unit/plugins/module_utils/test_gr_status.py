"""gr_status's logic on query rows recorded from a real group."""

import json
from pathlib import Path

import pytest

from ansible_collections.hapair.stack.plugins.module_utils.gr_status import (
    GrStatusError,
    explain_error,
    summarize,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "gr_status"
PAIR = ["172.28.91.11", "172.28.91.12"]


def load(name):
    return json.loads((FIXTURES / name).read_text())


def test_primary_of_a_healthy_pair():
    result = summarize(load("pair_primary.json"), expected_members=PAIR)
    assert result["healthy"], result["reasons"]
    assert result["state"] == "ONLINE" and result["role"] == "PRIMARY"
    assert result["writable"] is True
    assert result["primary"]["host"] == "172.28.91.11"
    assert [(m["host"], m["port"], m["state"], m["role"], m["version"]) for m in result["members"]] == [
        ("172.28.91.11", 3306, "ONLINE", "PRIMARY", "9.7.4"),
        ("172.28.91.12", 3306, "ONLINE", "SECONDARY", "9.7.4"),
    ]
    assert result["gtid_executed"].endswith(":1-6")
    assert (result["certification_queue"], result["applier_queue"]) == (0, 0)


def test_secondary_is_healthy_but_not_writable():
    result = summarize(load("pair_secondary.json"), expected_members=PAIR)
    assert result["healthy"], result["reasons"]
    assert result["role"] == "SECONDARY" and result["writable"] is False
    assert result["primary"]["host"] == "172.28.91.11"


def test_a_member_outside_the_group_is_unhealthy_and_read_only():
    result = summarize(load("member_offline.json"), expected_members=PAIR)
    assert not result["healthy"]
    assert result["state"] == "OFFLINE" and result["writable"] is False and result["primary"] is None
    assert "this member is OFFLINE, not ONLINE" in result["reasons"]
    assert "expected member(s) not ONLINE: 172.28.91.11, 172.28.91.12" in result["reasons"]


def test_a_primary_alone_names_the_missing_member():
    result = summarize(load("primary_alone.json"), expected_members=PAIR)
    assert result["writable"] is True
    assert result["reasons"] == ["expected member(s) not ONLINE: 172.28.91.12"]


def test_without_expected_members_a_group_of_one_is_healthy():
    assert summarize(load("primary_alone.json"))["healthy"]


def test_an_unexpected_member_is_reported():
    result = summarize(load("pair_primary.json"), expected_members=["172.28.91.11"])
    assert result["reasons"] == ["unexpected ONLINE member(s): 172.28.91.12"]


def test_two_primaries_and_queues_are_reported():
    raw = load("pair_primary.json")
    raw["members"][1]["role"] = "PRIMARY"
    raw["stats"][0]["applier_queue"] = 500
    result = summarize(raw, max_queue=100)
    assert "the group has 2 ONLINE PRIMARY members (172.28.91.11, 172.28.91.12), expected exactly 1" in result["reasons"]
    assert "500 transactions wait to be applied (more than 100)" in result["reasons"]


def test_a_read_only_primary_is_reported():
    raw = load("pair_primary.json")
    raw["server"][0]["super_read_only"] = 1
    result = summarize(raw)
    assert result["writable"] is False
    assert "this member is the PRIMARY but read-only (super_read_only is on)" in result["reasons"]


def test_plugin_not_loaded_is_an_error_that_says_what_to_do():
    with pytest.raises(GrStatusError, match="group_replication plugin is not loaded.*plugin_load_add"):
        summarize(load("plugin_missing.json"))


@pytest.mark.parametrize(
    "fixture, expected",
    [
        ("mysql_down.json", "MySQL is down or unreachable at /run/mysqld/mysqld.sock"),
        ("access_denied.json", "refused the account: Access denied for user 'hapair_monitor'@'localhost'"),
    ],
)
def test_recorded_errors_are_explained(fixture, expected):
    errno, message = load(fixture)["error"]
    assert expected in explain_error(errno, message, "/run/mysqld/mysqld.sock")
