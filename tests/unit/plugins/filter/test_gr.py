"""gr_pair_problems on gr_status results built from recorded rows."""

import json
from pathlib import Path

from ansible_collections.hapair.stack.plugins.filter.gr import gr_pair_problems
from ansible_collections.hapair.stack.plugins.module_utils.gr_status import summarize

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "gr_status"
PAIR = ["172.28.91.11", "172.28.91.12"]


def result(name):
    return summarize(json.loads((FIXTURES / name).read_text()), expected_members=PAIR)


def test_a_healthy_pair_has_no_problem():
    assert gr_pair_problems({"ha1": result("pair_primary.json"), "ha2": result("pair_secondary.json")}) == []


def test_a_member_outside_the_group_is_named():
    problems = gr_pair_problems({"ha1": result("primary_alone.json"), "ha2": result("member_offline.json")})
    assert problems[0] == "ha1: expected member(s) not ONLINE: 172.28.91.12"
    assert problems[1].startswith("ha2: this member is OFFLINE, not ONLINE")


def test_a_failed_read_is_named_with_its_message():
    problems = gr_pair_problems(
        {"ha1": result("pair_primary.json"), "ha2": {"failed": True, "msg": "MySQL is down"}}
    )
    assert problems == ["ha2: MySQL is down"]


def test_no_primary_is_a_problem():
    offline = result("member_offline.json")
    problems = gr_pair_problems({"ha2": offline})
    assert "the members report 0 different ONLINE PRIMARY members, expected exactly 1" in problems
