"""The database VIP's follow script (roles/mysql_gr/templates/mysql-follow-vip.j2),
rendered and run the way keepalived runs it on becoming MASTER, against a
recorded group: fake `mysql` and `ip` commands answer from a scenario and
write down every statement. It moves the primary only to an ONLINE
SECONDARY that keeps the VIP while the old primary is alive; a VIP that
followed the primary, or a switchover in flight, moves nothing. Its life
under keepalived is checked in Molecule."""

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

VIP = "172.28.78.101"
ME = "11111111-1111-1111-1111-111111111111"
PEER = "22222222-2222-2222-2222-222222222222"

pytestmark = pytest.mark.skipif(not shutil.which("logger") or not shutil.which("timeout"),
                                reason="needs logger and timeout")

# Answers each query from the scenario; a list of answers is consumed one
# call at a time (the last one repeats), so the group can change mid-run.
FAKE_MYSQL = """#!{python}
import json, sys
scenario_file = {scenario!r}
query = sys.argv[-1]
with open(scenario_file) as handle:
    scenario = json.load(handle)
with open(scenario_file + ".log", "a") as log:
    log.write(query + "\\n")
def answer(key):
    values = scenario[key]
    if isinstance(values, list):
        calls = scenario.setdefault("_calls", {{}})
        n = calls.get(key, 0)
        calls[key] = n + 1
        with open(scenario_file, "w") as handle:
            json.dump(scenario, handle)
        return values[min(n, len(values) - 1)]
    return values
if "group_replication_set_as_primary" in query:
    print("Primary server switched to: " + {me!r})
elif "CONCAT(MEMBER_STATE" in query:
    print(answer("me"))
elif "MEMBER_STATE <> 'ONLINE'" in query:
    print(answer("troubled"))
elif "MEMBER_HOST, MEMBER_PORT" in query:
    print(answer("primary_host"))
elif "SELECT MEMBER_ID" in query:
    print(answer("primary_id"))
elif "@@server_uuid" in query:
    print({me!r})
else:
    sys.exit("unexpected query: " + query)
"""

FAKE_IP = """#!/bin/sh
cat {addresses}
"""


@pytest.fixture
def follow(tmp_path, render_script):
    """Render the script with fakes on PATH; return run(scenario, holds_vip) -> the statements it sent."""
    script = render_script("mysql_gr", "mysql-follow-vip.j2", hapair_db_vip=VIP, mysql_gr_follow_settle=1,
                           mysql_gr_follow_transaction_timeout=5)
    bindir = tmp_path / "bin"
    bindir.mkdir()
    scenario_file = tmp_path / "scenario.json"
    addresses = tmp_path / "addresses"
    (bindir / "mysql").write_text(FAKE_MYSQL.format(python=sys.executable, scenario=str(scenario_file), me=ME))
    (bindir / "ip").write_text(FAKE_IP.format(addresses=addresses))
    for tool in bindir.iterdir():
        tool.chmod(0o755)

    def run(scenario, holds_vip=True):
        scenario_file.write_text(json.dumps(scenario))
        addresses.write_text(f"2: eth0    inet {VIP}/24 scope global secondary eth0\n" if holds_vip else
                             "2: eth0    inet 172.28.78.11/24 scope global eth0\n")
        done = subprocess.run([str(script)], env={**os.environ, "PATH": f"{bindir}:{os.environ['PATH']}"},
                              capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 0, done.stderr
        log = Path(f"{scenario_file}.log")
        return log.read_text().splitlines() if log.exists() else []

    return run


@pytest.fixture
def live_primary():
    """A listening loopback port: the old primary's MySQL port, answering."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        yield f"127.0.0.1 {server.getsockname()[1]}"


def switched(statements):
    return [s for s in statements if "group_replication_set_as_primary" in s]


def test_a_secondary_holding_the_vip_with_the_primary_alive_takes_the_primary(follow, live_primary):
    statements = follow({"me": "ONLINE SECONDARY", "primary_id": PEER, "troubled": "0",
                         "primary_host": live_primary})
    assert switched(statements) == [f"SELECT group_replication_set_as_primary('{ME}', 5)"]


def test_a_vip_that_followed_the_primary_moves_nothing(follow, live_primary):
    statements = follow({"me": "ONLINE PRIMARY", "primary_id": ME, "troubled": "0", "primary_host": live_primary})
    assert not switched(statements)
    assert len(statements) == 1  # one look, then done


def test_a_switchover_to_the_peer_in_flight_moves_nothing(follow, live_primary):
    """The VIP came while this member was the primary's target for a moment;
    an operator's switchover moves the primary back to the peer meanwhile."""
    statements = follow({"me": ["ONLINE SECONDARY"], "primary_id": [PEER, PEER, "33333333-3333-3333-3333-333333333333"],
                         "troubled": "0", "primary_host": live_primary})
    assert not switched(statements)


def test_a_member_that_becomes_primary_while_settling_moves_nothing(follow, live_primary):
    statements = follow({"me": ["ONLINE SECONDARY", "ONLINE SECONDARY", "ONLINE PRIMARY"], "primary_id": PEER,
                         "troubled": "0", "primary_host": live_primary})
    assert not switched(statements)


def test_a_vip_that_left_again_moves_nothing(follow, live_primary):
    statements = follow({"me": "ONLINE SECONDARY", "primary_id": PEER, "troubled": "0",
                         "primary_host": live_primary}, holds_vip=False)
    assert not switched(statements)


def test_a_group_with_a_member_not_online_moves_nothing(follow, live_primary):
    statements = follow({"me": "ONLINE SECONDARY", "primary_id": PEER, "troubled": "1",
                         "primary_host": live_primary})
    assert not switched(statements)


def test_a_primary_that_does_not_answer_moves_nothing(follow):
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    statements = follow({"me": "ONLINE SECONDARY", "primary_id": PEER, "troubled": "0",
                         "primary_host": f"127.0.0.1 {closed}"})
    assert not switched(statements)


@pytest.mark.parametrize("me", ["RECOVERING SECONDARY", "ERROR ", ""])
def test_a_member_not_online_moves_nothing(follow, live_primary, me):
    statements = follow({"me": me, "primary_id": PEER, "troubled": "0", "primary_host": live_primary})
    assert not switched(statements)
