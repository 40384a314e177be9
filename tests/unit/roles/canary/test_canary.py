"""The canary's request handling where it is pure: argument parsing, answer
shaping, error classification, keepalived's state files. Its behaviour
against a real MySQL is checked in Molecule (molecule/default/tests/test_data.py)."""

import importlib.util
import json
import os
from pathlib import Path

import pytest

CANARY = Path(__file__).resolve().parents[4] / "roles" / "canary" / "files" / "canary.py"


@pytest.fixture(scope="module")
def canary():
    spec = importlib.util.spec_from_file_location("hapair_canary", CANARY)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class MySQLError(Exception):
    """Shaped like pymysql's errors: (errno, message)."""


@pytest.mark.parametrize("query, seq", [("seq=0", 0), ("seq=42", 42), ("seq=%2042", 42),
                                        (f"seq={2**63 - 1}", 2**63 - 1), ("a=1&seq=7", 7)])
def test_parse_seq_accepts_one_non_negative_integer(canary, query, seq):
    assert canary.parse_seq(query) == seq


@pytest.mark.parametrize("query", ["", "seq=", "seq=-1", "seq=1.5", "seq=abc", "seq=1&seq=2",
                                   f"seq={2**63}", "seq=1e3", "sequence=1"])
def test_parse_seq_refuses_everything_else(canary, query):
    with pytest.raises(canary.BadRequest):
        canary.parse_seq(query)


def test_a_committed_write_answers_200_with_seq_node_and_member(canary):
    assert canary.write_answer(5, "ha1", db="ha2") == (200, {"seq": 5, "node": "ha1", "db": "ha2"})


def test_a_duplicate_seq_answers_409(canary):
    exc = MySQLError(1062, "Duplicate entry '5' for key 'canary_writes.PRIMARY'")
    status, body = canary.write_answer(5, "ha1", exc=exc)
    assert status == 409
    assert body["seq"] == 5 and "Duplicate entry" in body["error"]


@pytest.mark.parametrize("exc", [
    MySQLError(1290, "The MySQL server is running with the --super-read-only option"),
    MySQLError(2003, "Can't connect to MySQL server on '192.0.2.101' (timed out)"),
    MySQLError(2013, "Lost connection to MySQL server during query (timed out)"),
    TimeoutError("timed out"),
    ConnectionRefusedError(111, "Connection refused"),
])
def test_any_other_failure_answers_503_with_error_and_seq(canary, exc):
    status, body = canary.write_answer(9, "ha2", exc=exc)
    assert status == 503
    assert body["seq"] == 9 and body["error"].startswith(type(exc).__name__)


def test_error_texts_are_one_bounded_line(canary):
    assert len(canary.describe(MySQLError(1045, "x" * 1000))) <= 300


def test_read_answer_says_whether_the_row_is_here(canary):
    assert canary.read_answer(3, ("ha1",), "ha2") == {"seq": 3, "present": True, "db": "ha1", "reader": "ha2"}
    assert canary.read_answer(3, None, "ha2") == {"seq": 3, "present": False, "db": None, "reader": "ha2"}


def test_gr_answer_is_role_and_state_or_none_outside_a_group(canary):
    assert canary.gr_answer(("PRIMARY", "ONLINE")) == ("PRIMARY", "ONLINE")
    assert canary.gr_answer(("", "OFFLINE")) == (None, "OFFLINE")
    assert canary.gr_answer(None) == (None, None)


def test_vrrp_states_reads_the_notify_scripts_files(canary, tmp_path):
    # As keepalived-notify writes them (roles/keepalived/templates/keepalived-notify.sh.j2).
    (tmp_path / "web.state").write_text(json.dumps({"instance": "web", "kind": "INSTANCE", "state": "MASTER",
                                                    "previous": "BACKUP", "priority": 150}) + "\n")
    (tmp_path / "db.state").write_text(json.dumps({"instance": "db", "state": "BACKUP"}) + "\n")
    (tmp_path / ".web.Ab12Cd").write_text("partial")  # the notify script's temporary file
    (tmp_path / "broken.state").write_text("{")
    assert canary.vrrp_states(str(tmp_path)) == {"web": "MASTER", "db": "BACKUP", "broken": None}


def test_vrrp_states_without_keepalived_is_empty(canary, tmp_path):
    assert canary.vrrp_states(str(tmp_path / "missing")) == {}


def test_db_config_is_off_without_a_write_host(canary):
    assert canary.db_config({}) is None


def test_db_config_reads_the_environment_file(canary):
    config = canary.db_config({"CANARY_DB_WRITE_HOST": "192.0.2.101", "CANARY_DB_LOCAL_HOST": "192.0.2.11",
                               "CANARY_DB_PASSWORD": "s3cret", "CANARY_DB_TIMEOUT": "1.5"})
    assert config["write_host"] == "192.0.2.101" and config["local_host"] == "192.0.2.11"
    assert config["table"] == "`hapair`.`canary_writes`" and config["timeout"] == 1.5


def test_db_config_refuses_odd_table_names(canary):
    with pytest.raises(ValueError, match="odd"):
        canary.db_config({"CANARY_DB_WRITE_HOST": "192.0.2.101", "CANARY_DB_TABLE": "t; DROP TABLE x"})


IP_ADDR = json.dumps([
    {"ifname": "lo", "addr_info": [{"family": "inet", "local": "127.0.0.1", "prefixlen": 8}]},
    {"ifname": "eth0", "addr_info": [{"family": "inet", "local": "192.0.2.11", "prefixlen": 24},
                                     {"family": "inet", "local": "192.0.2.100", "prefixlen": 24}]},
])


def test_vips_held_says_which_instances_this_node_holds(canary):
    manifest = {"instances": [
        {"name": "web", "vips": [{"address": "192.0.2.100", "cidr": "192.0.2.100/24"}]},
        {"name": "db", "vips": ["192.0.2.101/24"]},
        {"name": "none", "vips": []},
    ]}
    held = canary.held_addresses(IP_ADDR)
    assert canary.vips_held(manifest, held) == {"web": True, "db": False, "none": False}


def test_read_vips_held_without_a_manifest_is_empty(canary, tmp_path):
    assert canary.read_vips_held(str(tmp_path / "missing.json")) == {}


def test_keepalived_running_follows_the_pid_file(canary, tmp_path):
    pid_file = tmp_path / "keepalived.pid"
    assert not canary.keepalived_running(str(pid_file))
    pid_file.write_text(f"{os.getpid()}\n")
    assert canary.keepalived_running(str(pid_file))
    pid_file.write_text("garbage\n")
    assert not canary.keepalived_running(str(pid_file))
