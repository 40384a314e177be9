"""Unit tests of the gr_checksum module: main() wired to fake members
(tests/unit/fixtures/gr_checksum/), PyMySQL replaced."""

import importlib.util
import ssl
import types
from pathlib import Path
from unittest import mock

import pytest
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args

from ansible_collections.hapair.stack.plugins.modules import gr_checksum

_spec = importlib.util.spec_from_file_location(
    "fake_server", Path(__file__).resolve().parents[2] / "fixtures" / "gr_checksum" / "fake_server.py")
fake = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fake)

SECRET = "s3cr3t-do-not-print"
MEMBERS = [{"name": "ha1", "login_host": "192.0.2.11"}, {"name": "ha2", "login_host": "192.0.2.12"}]


class Exit(Exception):
    def __init__(self, kwargs, failed):
        super().__init__(kwargs)
        self.result, self.failed = kwargs, failed


class MySQLError(Exception):
    pass


def fake_pymysql(servers, refused=None):
    """A stand-in for the pymysql module: connect() returns the fake server
    of the host (or socket) asked for, or raises REFUSED's error for it."""
    calls = []

    def connect(**kwargs):
        calls.append(kwargs)
        address = kwargs.get("host") or kwargs.get("unix_socket")
        if refused and address == refused[0]:
            raise MySQLError(*refused[1:])
        return servers[address]
    return types.SimpleNamespace(connect=connect, err=types.SimpleNamespace(MySQLError=MySQLError),
                                 cursors=types.SimpleNamespace(DictCursor=object)), calls


def run(args, servers, refused=None):
    def exit_json(self, **kwargs):
        raise Exit(kwargs, False)

    def fail_json(self, **kwargs):
        raise Exit(kwargs, True)

    module, calls = fake_pymysql(servers, refused)
    with patch_module_args(args), \
            mock.patch.object(basic.AnsibleModule, "exit_json", exit_json), \
            mock.patch.object(basic.AnsibleModule, "fail_json", fail_json), \
            mock.patch.object(gr_checksum, "pymysql", module):
        with pytest.raises(Exit) as caught:
            gr_checksum.main()
    return caught.value, calls


def by_address(pair):
    return {"192.0.2.11": pair["ha1"], "192.0.2.12": pair["ha2"]}


def test_a_healthy_pair_in_check_mode_is_consistent_and_nothing_changes():
    pair = fake.pair()
    out, calls = run({"members": MEMBERS, "login_password": SECRET, "_ansible_check_mode": True}, by_address(pair))
    assert not out.failed and out.result["changed"] is False
    assert out.result["consistent"] is True and out.result["reference"] == "ha1"
    assert [c["host"] for c in calls] == ["192.0.2.11", "192.0.2.12"]
    # TCP: TLS on, the members' self-signed certificates accepted; the account's defaults.
    assert all(isinstance(c["ssl"], ssl.SSLContext) and c["ssl"].verify_mode == ssl.CERT_NONE for c in calls)
    assert all(c["user"] == "hapair_checksum" and c["autocommit"] is True for c in calls)
    assert all(s.closed for s in pair.values())


def test_a_difference_is_returned_with_the_table_and_members():
    pair = fake.pair()
    pair["ha2"].data["checksums"]["hapair.canary_writes"] = [121, 5]
    out, _failed = run({"members": MEMBERS, "login_password": SECRET}, by_address(pair))
    assert not out.failed and out.result["consistent"] is False
    assert out.result["differences"] == [
        {"schema": "hapair", "table": "canary_writes", "kind": "rows", "members": ["ha1", "ha2"]}]


def test_a_socket_member_gets_no_tls_and_a_default_name():
    pair = fake.pair()
    members = [{"login_unix_socket": "/run/mysqld/mysqld.sock"}, {"name": "ha2", "login_host": "192.0.2.12"}]
    servers = {"/run/mysqld/mysqld.sock": pair["ha1"], "192.0.2.12": pair["ha2"]}
    out, calls = run({"members": members, "login_port": 3307}, servers)
    assert out.result["reference"] == "/run/mysqld/mysqld.sock"
    assert "ssl" not in calls[0] and calls[0]["unix_socket"] == "/run/mysqld/mysqld.sock"
    # A member without its own port takes the module's.
    assert calls[1]["port"] == 3307


def test_an_unreachable_member_fails_naming_it_and_its_error_never_the_password():
    pair = fake.pair()
    refused = ("192.0.2.12", 2003, "Can't connect to MySQL server on '192.0.2.12' ([Errno 111] Connection refused)")
    out, _failed = run({"members": MEMBERS, "login_password": SECRET}, by_address(pair), refused=refused)
    assert out.failed
    assert out.result["msg"].startswith(
        "member ha2 (192.0.2.12:3306) is unreachable: Can't connect to MySQL server on '192.0.2.12' "
        "([Errno 111] Connection refused).")
    assert SECRET not in str(out.result)
    # The member that answered was let go.
    assert pair["ha1"].closed


def test_a_refused_account_says_which_account_to_check():
    pair = fake.pair()
    refused = ("192.0.2.11", 1045, "Access denied for user 'hapair_checksum'@'192.0.2.11' (using password: YES)")
    out, _failed = run({"members": MEMBERS, "login_password": SECRET}, by_address(pair), refused=refused)
    assert out.failed and out.result["msg"].startswith("member ha1 (192.0.2.11:3306) refused the account")
    assert "mysql_gr_checksum_user" in out.result["msg"] and SECRET not in out.result["msg"]


def test_members_named_twice_are_refused_before_connecting():
    out, calls = run({"members": [MEMBERS[0], dict(MEMBERS[1], name="ha1")]}, {})
    assert out.failed and "members named twice: ha1" in out.result["msg"] and calls == []


def test_without_pymysql_the_module_says_what_to_install():
    with patch_module_args({"members": MEMBERS}), \
            mock.patch.object(basic.AnsibleModule, "fail_json", lambda self, **kw: (_x for _x in ()).throw(Exit(kw, True))), \
            mock.patch.object(gr_checksum, "pymysql", None):
        with pytest.raises(Exit) as caught:
            gr_checksum.main()
    assert "PyMySQL (python3-pymysql)" in caught.value.result["msg"]


@pytest.mark.parametrize("option", ["attempts", "wait_timeout"])
def test_attempts_and_wait_timeout_must_be_at_least_one(option):
    out, calls = run({"members": MEMBERS, option: 0}, {})
    assert out.failed and out.result["msg"] == f"{option} must be 1 or more." and calls == []
