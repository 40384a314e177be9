# -*- coding: utf-8 -*-
# Copyright: hapair.stack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The preflight's checks of an inventory, as data, in one place.

``preflight_specs`` reads every role's ``meta/argument_specs.yml`` and
``defaults/main.yml`` at run time, so the variables a role knows (and their
types) come from the role itself, never from a list kept here.

``preflight_host`` checks what the inventory sets for one host: each value
against its role's argument spec (type, elements, choices, nested options),
then against the rules below (ports, sizes, checksums, names, addresses,
passwords, settings written to configuration files), the ports a node listens
on (distinct), and names with a role's prefix that no role knows (a typo,
reported with the closest real name).

``preflight_inventory`` checks the inventory as a whole: every pair and
witness group sits where site.yml finds it (under ``hapair``), and across all
pairs node addresses, VIPs and VRRP router ids are unique; the variables a
pair must agree on agree.

Every message names the host (or pair) and the variable the user set, and
says what a good value looks like. No message ever holds the value of a
secret (an option with ``no_log`` or a password).
"""

from __future__ import annotations

import difflib
import ipaddress
import re
from collections.abc import Mapping
from pathlib import Path

import yaml
from jinja2 import Undefined

try:
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - PyYAML without libyaml
    from yaml import SafeLoader as _Loader

DOCUMENTATION = r"""
name: preflight_host
short_description: What is wrong with the variables an inventory sets for one host
version_added: 0.3.0
description:
  - Checks every variable of the host that a role of the collection knows against that role's argument spec
    and against the collection's rules for ports, sizes, checksums, names, addresses and passwords; reports
    variables with a role's prefix that no role knows, with the closest real name.
  - Returns a list of messages, empty when all is well. A message never holds a secret's value.
positional: _input
options:
  _input:
    description: The host's variables (C(hostvars[inventory_hostname])).
    type: dict
    required: true
  specs:
    description: Every role's options and defaults, from P(hapair.stack.preflight_specs#filter).
    type: dict
    required: true
  host:
    description: The inventory name of the host.
    type: str
    required: true
  groups:
    description: The inventory's groups (C(groups)).
    type: dict
    required: true
  known:
    description: More variable names to accept as known (the inventory's own variables).
    type: list
    elements: str
    default: []
"""

EXAMPLES = r"""
- name: Check every variable set for this host
  ansible.builtin.assert:
    that: problems | length == 0
    fail_msg: "{{ problems | join('; ') }}"
  vars:
    specs: "{{ (role_path ~ '/..') | hapair.stack.preflight_specs }}"
    problems: "{{ hostvars[inventory_hostname] | hapair.stack.preflight_host(specs, host=inventory_hostname, groups=groups) }}"
"""

RETURN = r"""
_value:
  description: One message per problem, naming the host and the variable.
  type: list
  elements: str
"""

# Prefix of the collection's variables that belong to no one role.
SHARED_PREFIX = "hapair_"
TYPO_CUTOFF = 0.8

# The ports each kind of host listens on: every one must be its own.
NODE_PORTS = [
    "mysql_gr_port", "nginx_port", "nginx_status_port", "canary_port",
    "kafka_client_port", "kafka_replication_port", "kafka_controller_port",
]
WITNESS_PORTS = ["mysql_gr_port", "kafka_controller_port"]

# Relative paths are fine only here (a folder on the controller).
RELATIVE_PATHS = {"drill_reports_dir"}

BOOL_WORDS = {"true", "false", "yes", "no", "on", "off", "1", "0", "y", "n", "t", "f"}

UNIX_NAME = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")
SQL_ACCOUNT = re.compile(r"^[A-Za-z0-9_]{1,32}$")
SQL_NAME = re.compile(r"^[A-Za-z0-9_]{1,64}$")
SQL_HOST = re.compile(r"^[A-Za-z0-9._%:/-]{1,255}$")
GROUP_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
LABEL_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# MySQL host patterns made of addresses only (no name to resolve).
ADDRESS_HOST = re.compile(r"^[0-9.%_/]+$")
ADDRESS6_HOST = re.compile(r"^[0-9A-Fa-f:.%_/]+$")
VERSION = re.compile(r"^[0-9]+(\.[0-9]+)+$")
HEAP = re.compile(r"^[1-9][0-9]*[kKmMgG]$")
CHECKSUM = re.compile(r"^(sha256:[0-9a-fA-F]{64}|sha512:[0-9a-fA-F]{128})$")
# A Prometheus / Alertmanager duration: 15s, 1m30s, 30d.
DURATION = re.compile(r"^([0-9]+(ms|s|m|h|d|w|y))+$")
UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
KAFKA_CLUSTER_ID = re.compile(r"^[A-Za-z0-9_-]{22}$")
INTERFACE = re.compile(r"^[A-Za-z0-9_.:@-]{1,15}$")
SETTING_KEY = re.compile(r"^[A-Za-z0-9_.-]+$")
KAFKA_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
TABLE_PRIVILEGES = {"SELECT", "INSERT", "UPDATE", "DELETE", "REFERENCES", "INDEX", "ALTER", "CREATE", "DROP",
                    "TRIGGER", "SHOW VIEW", "CREATE VIEW"}
# keepalived.conf has no quoting for auth_pass: a word of printable ASCII,
# without the characters its parser gives a meaning (comments, blocks, quotes).
AUTH_PASS = re.compile(r"^[A-Za-z0-9%&()*+,./:;<=>?@^_`|~\[\]$-]{1,8}$")


class Problem(ValueError):
    """A value that breaks a rule; the text says what a good value looks like."""


# --- reading the roles -------------------------------------------------------

def preflight_specs(roles_dir):
    """Every role's options (all entry points) and literal defaults, by role."""
    specs = {}
    for role_dir in sorted(Path(str(roles_dir)).iterdir()):
        spec_file = role_dir / "meta" / "argument_specs.yml"
        if not spec_file.is_file():
            continue
        loaded = yaml.load(spec_file.read_text(encoding="utf-8"), Loader=_Loader) or {}
        options = {}
        for entry in (loaded.get("argument_specs") or {}).values():
            for name, option in ((entry or {}).get("options") or {}).items():
                options.setdefault(name, option or {})
        defaults_file = role_dir / "defaults" / "main.yml"
        defaults = {}
        if defaults_file.is_file():
            defaults = yaml.load(defaults_file.read_text(encoding="utf-8"), Loader=_Loader) or {}
        specs[role_dir.name] = {"options": options, "defaults": defaults}
    return specs


def _catalog(specs):
    """(options by name, literal defaults by name, prefixes, known names)."""
    options, defaults, known = {}, {}, set()
    prefixes = {SHARED_PREFIX}
    for role, data in specs.items():
        prefixes.add(role + "_")
        for name, option in data["options"].items():
            options.setdefault(name, option)
            known.add(name)
        for name, value in data["defaults"].items():
            known.add(name)
            if not (isinstance(value, str) and "{{" in value):
                defaults.setdefault(name, value)
    return options, defaults, prefixes, known


def _is_secret(name, option=None):
    return bool((option or {}).get("no_log")) or name.endswith(("_password", "_pass"))


# --- converting like Ansible's argument spec, but strictly -------------------

def _int(value):
    if isinstance(value, bool):
        raise Problem("a whole number")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value == int(value):
        return int(value)
    if isinstance(value, str) and re.match(r"^[+-]?[0-9]+$", value.strip()):
        return int(value.strip())
    raise Problem("a whole number")


def _float(value):
    if isinstance(value, bool):
        raise Problem("a number")
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            pass
    raise Problem("a number")


def _bool(value):
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in BOOL_WORDS:
        return value.strip().lower() in ("true", "yes", "on", "1", "y", "t")
    raise Problem("true or false")


def _str(value):
    if isinstance(value, bool):
        # YAML reads an unquoted off/no/yes as a boolean.
        raise Problem("a text (YAML read a bare yes/no/on/off as a boolean: quote it)")
    if isinstance(value, (str, int, float)):
        return str(value)
    raise Problem("a text")


def _kind(value):
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, (int, float)):
        return "a number"
    return "a text"


def _shown(name, value, option=None):
    """The value as a message may show it: never a secret's."""
    if value is None or value == "":
        return "empty" if value == "" else "null"
    if _is_secret(name, option):
        return f"<{_kind(value)}, hidden>" if not isinstance(value, str) else "<hidden>"
    if isinstance(value, str):
        return repr(value)
    return repr(value) if value is None or isinstance(value, (bool, int, float)) else _kind(value)


def _choices(choices):
    return ", ".join(str(c).lower() if isinstance(c, bool) else str(c) for c in choices)


CONVERTERS = {"int": _int, "float": _float, "bool": _bool, "str": _str, "path": _str}


def check_type(name, value, option, where=None):
    """Problems of value against its option's type, elements, choices and sub-options."""
    where = where or name
    kind = option.get("type", "raw")
    if value is None:
        return []  # as Ansible: null leaves an option unset; the rules say where it may not be
    problems = []
    if kind in CONVERTERS:
        try:
            converted = CONVERTERS[kind](value)
        except Problem as wrong:
            return [f"{where} is {_shown(name, value, option)}, which is not {wrong}"]
        choices = option.get("choices")
        if choices and converted not in choices and str(converted) not in [str(c) for c in choices]:
            problems.append(f"{where} is {_shown(name, value, option)}; choose one of {_choices(choices)}")
    elif kind == "raw" and option.get("choices"):
        if str(value).lower() not in [str(c).lower() for c in option["choices"]]:
            problems.append(f"{where} is {_shown(name, value, option)}; choose one of {_choices(option['choices'])}")
    elif kind == "list":
        if not isinstance(value, (list, tuple)):
            return [f"{where} is {_kind(value)}; it must be a list (for example [a, b])"]
        elements = option.get("elements")
        for index, item in enumerate(value):
            sub = dict(option.get("options") and {"type": "dict", "options": option["options"]} or {})
            sub.setdefault("type", elements or "raw")
            if elements and option.get("choices"):
                sub["choices"] = option["choices"]
            problems += check_type(name, item, sub, f"{where}[{index}]")
    elif kind == "dict":
        if not isinstance(value, Mapping):
            return [f"{where} is {_kind(value)}; it must be a mapping (a dict of key: value)"]
        sub_options = option.get("options") or {}
        if sub_options:
            for key in value:
                if key not in sub_options:
                    problems.append(f"{where} has {key!r}, which is none of {', '.join(sub_options)}")
            for key, sub in sub_options.items():
                if key not in value or value[key] is None:
                    if sub.get("required"):
                        problems.append(f"{where} lacks {key} ({sub.get('description', '')})".rstrip(" ()"))
                    continue
                problems += check_type(name, value[key], sub, f"{where}.{key}")
    return problems


# --- rules on values, by variable name ---------------------------------------

def _port(value):
    if not 1 <= _int(value) <= 65535:
        raise Problem("a port from 1 to 65535")


def _range(low, high, what="a whole number"):
    def check(value):
        number = _int(value)
        if not low <= number <= high:
            raise Problem(f"{what} from {low} to {high}")
    return check


def _positive_float(high=None):
    def check(value):
        number = _float(value)
        if number <= 0 or (high is not None and number > high):
            raise Problem("a number of seconds above 0" + (f" and at most {high}" if high else ""))
    return check


def _not_negative(value):
    if _float(value) < 0:
        raise Problem("a number from 0 up")


def _at_least_one(value):
    if _int(value) < 1:
        raise Problem("a whole number from 1 up")


def _pattern(regex, what):
    def check(value):
        if not isinstance(value, (str, int)) or isinstance(value, bool) or not regex.match(str(value)):
            raise Problem(what)
    return check


def _optional(check):
    def optional(value):
        if value is None or value == "":
            return
        check(value)
    return optional


def _address(value):
    try:
        ipaddress.ip_address(str(value).strip())
    except ValueError:
        raise Problem("an IP address (for example 192.0.2.11)") from None
    if str(value) != str(value).strip() or "/" in str(value):
        raise Problem("an IP address alone, without spaces or /prefix")


def _endpoint(value):
    """host:port, the host an address or a name."""
    text = str(value)
    host, _sep, port = text.rpartition(":")
    if not host or not re.match(r"^[A-Za-z0-9.\[\]:_-]+$", host):
        raise Problem("host:port (for example 192.0.2.11:9092)")
    try:
        _port(port)
    except Problem:
        raise Problem("host:port with a port from 1 to 65535") from None


def _endpoints(value):
    for part in str(value).split(","):
        _endpoint(part.strip())


def _password(value):
    if value is None or value == "":
        raise Problem("a password (keep it in Ansible Vault)")
    if isinstance(value, (bool, Mapping, list, tuple)):
        raise Problem(f"a text, not {_kind(value)} (quote it; keep it in Ansible Vault)")
    if "\0" in str(value):
        raise Problem("a text without NUL characters")


def _auth_pass(value):
    if value is None or value == "":
        return
    if not isinstance(value, str) or not AUTH_PASS.match(value):
        raise Problem(
            "1 to 8 printable characters without spaces, quotes, backslash, '#', '!', '{' or '}' "
            "(keepalived.conf has no quoting for it), or empty for none"
        )


def _absolute_path(value):
    text = str(value)
    if not text.startswith("/") or re.search(r"\s", text):
        raise Problem("an absolute path without spaces (for example /var/lib/hapair)")


def _access_log(value):
    if value != "off":
        _absolute_path(value)


def _worker_processes(value):
    if str(value) != "auto":
        try:
            _at_least_one(value)
        except Problem:
            raise Problem("auto or a number of processes from 1 up") from None


def _settings(value):
    """Settings written as key = value lines of a configuration file."""
    if not isinstance(value, Mapping):
        return
    for key, item in value.items():
        if not SETTING_KEY.match(str(key)):
            raise Problem(f"settings with names of letters, digits, '_', '.' or '-' (not {key!r})")
        if item is not None and not isinstance(item, (str, int, float, bool)):
            raise Problem(f"settings with plain values (the value of {key} is {_kind(item)})")
        if isinstance(item, str) and re.search(r"[\r\n]", item):
            raise Problem(f"settings with one-line values (the value of {key} holds a line break)")


def _listener_protocols(value):
    if isinstance(value, Mapping):
        for listener, protocol in value.items():
            if str(protocol) not in KAFKA_PROTOCOLS:
                raise Problem(f"for each listener one of {', '.join(KAFKA_PROTOCOLS)} (not {protocol!r} for {listener})")


def _app_tables(value):
    """Each table's name and privileges land in SQL as identifiers and keywords."""
    for index, table in enumerate(value if isinstance(value, (list, tuple)) else []):
        if not isinstance(table, Mapping):
            continue
        if not SQL_NAME.match(str(table.get("name", ""))):
            raise Problem(f"table names of letters, digits and '_' (item {index}: {table.get('name')!r})")
        for privilege in table.get("privileges") or []:
            if str(privilege).upper() not in TABLE_PRIVILEGES:
                raise Problem(f"table privileges from {', '.join(sorted(TABLE_PRIVILEGES))} "
                              f"(item {index}: {privilege!r})")


def _each(check):
    def every(value):
        if isinstance(value, (list, tuple)):
            for item in value:
                try:
                    check(item)
                except Problem as wrong:
                    raise Problem(f"{wrong} as each item ({item!r} is not)") from None
    return every


def _group_by(value):
    if not isinstance(value, (list, tuple)):
        return
    if "..." in value and len(value) > 1:
        raise Problem('["..."] alone (each alert on its own) or a list of label names')
    _each(_pattern(LABEL_NAME, "a Prometheus label name (letters, digits, '_'), or \"...\" alone"))(
        [label for label in value if label != "..."])


# Exact names first; then the rules by the end of the name.
RULES = {
    "monitoring_group_by": _group_by,
    "hapair_node_address": _address,
    "hapair_web_vip": _address,
    "hapair_db_vip": _optional(_address),
    "hapair_reserved_vips": _each(_address),
    "hapair_pair_group": _pattern(GROUP_NAME, "an inventory group name (letters, digits, '_')"),
    "hapair_witness_group": _optional(_pattern(GROUP_NAME, "an inventory group name (letters, digits, '_'), or empty")),
    "kafka_witness_group": _optional(_pattern(GROUP_NAME, "an inventory group name (letters, digits, '_'), or empty")),
    "nginx_listen_addresses": _each(_address),
    "keepalived_unicast_peers": _each(_address),
    "keepalived_auth_pass": _auth_pass,
    "keepalived_web_virtual_router_id": _range(1, 255, "a VRRP router id"),
    "keepalived_db_virtual_router_id": _range(1, 255, "a VRRP router id"),
    "keepalived_priority": _range(1, 254, "a priority"),
    "keepalived_vrrp_nice": _optional(_range(-20, 19, "a nice value")),
    "keepalived_vip_prefix": _range(1, 128, "a prefix length"),
    "keepalived_advert_int": _positive_float(255),
    "keepalived_preempt_delay": _range(0, 1000, "a number of seconds"),
    "keepalived_interface": _pattern(INTERFACE, "a network interface name (for example eth0)"),
    "keepalived_script_user": _pattern(UNIX_NAME, "a system user name (for example keepalived_script)"),
    "mysql_gr_server_id": _range(1, 4294967295, "a server id"),
    "mysql_gr_member_weight": _range(0, 100, "an election weight"),
    "mysql_gr_follow_transaction_timeout": _range(0, 3600, "a number of seconds"),
    "mysql_gr_group_name": _pattern(UUID, "a UUID (for example 0a4bd628-8a4e-50f0-99ab-2c0568c2b901)"),
    "mysql_gr_local_address": _endpoint,
    "mysql_gr_group_seeds": _each(_endpoint),
    "mysql_gr_recovery_user": _pattern(SQL_ACCOUNT, "a MySQL account name (letters, digits, '_', up to 32)"),
    "mysql_gr_monitor_user": _pattern(SQL_ACCOUNT, "a MySQL account name (letters, digits, '_', up to 32)"),
    "mysql_gr_checksum_user": _pattern(SQL_ACCOUNT, "a MySQL account name (letters, digits, '_', up to 32)"),
    "mysql_gr_checksum_schemas": _each(_pattern(SQL_NAME, "database names (letters, digits, '_', up to 64)")),
    "mysql_gr_app_user": _pattern(SQL_ACCOUNT, "a MySQL account name (letters, digits, '_', up to 32)"),
    "mysql_gr_app_database": _pattern(SQL_NAME, "a database name (letters, digits, '_', up to 64)"),
    "mysql_gr_app_host": _pattern(SQL_HOST, "a MySQL host pattern (for example % or 192.0.2.%)"),
    "mysql_gr_track_user": _pattern(UNIX_NAME, "a system user name"),
    "mysql_gr_settings": _settings,
    "mysql_gr_app_tables": _app_tables,
    "mysql_gr_base_settings": _settings,
    "kafka_cluster_id": _pattern(KAFKA_CLUSTER_ID, "22 characters of base64url (kafka-storage random-uuid)"),
    "kafka_server_properties": _settings,
    "kafka_listener_protocols": _listener_protocols,
    "kafka_user": _pattern(UNIX_NAME, "a system user name (for example kafka)"),
    "kafka_group": _pattern(UNIX_NAME, "a system group name (for example kafka)"),
    "kafka_version": _pattern(VERSION, "a release number (for example 4.0.0)"),
    "kafka_scala_version": _pattern(VERSION, "a Scala version (for example 2.13)"),
    "flume_version": _pattern(VERSION, "a release number (for example 1.11.0)"),
    "flume_user": _pattern(UNIX_NAME, "a system user name (for example flume)"),
    "flume_groups": _each(_pattern(UNIX_NAME, "system group names")),
    "flume_kafka_bootstrap": _optional(_endpoints),
    "flume_batch_size": _at_least_one,
    "flume_producer_properties": _settings,
    "rsyslog_kafka_brokers": _each(_endpoint),
    "rsyslog_kafka_params": _settings,
    "sysctl_settings": _settings,
    "sysctl_base_settings": _settings,
    "sysctl_host_settings": _settings,
    "rsyslog_kafka_topic_params": _settings,
    "nginx_upstreams": _each(_endpoint),
    "nginx_access_log": _access_log,
    "nginx_worker_processes": _worker_processes,
    "nginx_worker_connections": _at_least_one,
    "nginx_status_address": _address,
    "canary_user": _pattern(UNIX_NAME, "a system user name"),
    "canary_db_user": _pattern(SQL_ACCOUNT, "a MySQL account name (letters, digits, '_', up to 32)"),
    "canary_db_name": _pattern(SQL_NAME, "a database name (letters, digits, '_', up to 64)"),
    "canary_db_table": _pattern(SQL_NAME, "a table name (letters, digits, '_', up to 64)"),
    "canary_address": _address,
    "drill_canary_table": _pattern(SQL_NAME, "a table name (letters, digits, '_', up to 64)"),
    "drill_rate": _at_least_one,
}
# The monitoring role's intervals and timeouts are Prometheus durations, not
# the seconds the suffix rules below expect.
RULES.update({
    name: _pattern(DURATION, "a Prometheus duration (for example 15s, 5m or 30d)")
    for name in ("monitoring_scrape_interval", "monitoring_evaluation_interval", "monitoring_icmp_interval",
                 "monitoring_http_interval", "monitoring_replication_interval", "monitoring_probe_timeout",
                 "monitoring_group_wait", "monitoring_group_interval", "monitoring_repeat_interval",
                 "monitoring_retention_time")
})

SUFFIX_RULES = [
    ("_port", _port),
    ("_password", _password),
    ("_checksum", _optional(_pattern(CHECKSUM, "sha256:<64 hex digits> or sha512:<128 hex digits> "
                                               "(the release's .sha512 file), or empty with an archive on the controller"))),
    ("_heap", _pattern(HEAP, "a JVM heap size as -Xmx takes it (for example 1g or 256m)")),
    ("_timeout", _not_negative),
    ("_seconds", _not_negative),
    ("_interval", _positive_float()),
    ("_settle", _not_negative),
]


def rule_for(name, option):
    if name in RULES:
        return RULES[name]
    for suffix, rule in SUFFIX_RULES:
        if name.endswith(suffix):
            return rule
    if option.get("type") == "path" and name not in RELATIVE_PATHS:
        return _optional(_absolute_path)
    return None


def check_value(name, value, option):
    """Problems of one variable: its type, then its rule."""
    problems = check_type(name, value, option)
    if problems:
        return problems
    rule = rule_for(name, option)
    if rule is None or (value is None and not name.endswith("_password")):
        return []
    try:
        rule(value)
    except Problem as wrong:
        return [f"{name} is {_shown(name, value, option)}; set {wrong}"]
    return []


# --- one host ------------------------------------------------------------------

def _undefined(value):
    """Whether value holds something only a role's own scope defines."""
    if isinstance(value, Undefined):
        return True
    if isinstance(value, Mapping):
        return any(_undefined(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_undefined(v) for v in value)
    return False


def _read(variables, name):
    """(found, value). A value built from a role's defaults (which the
    inventory cannot see) is left to that role's own checks; any other value
    that cannot be templated is reported."""
    try:
        if name not in variables:
            return False, None
        value = variables[name]
    except Exception as error:  # noqa: BLE001 - any templating error is the user's to see
        raise Problem(f"{name} cannot be read: {str(error).splitlines()[0][:200]}") from None
    if _undefined(value):
        return False, None
    return True, value


def _typo(name, known, prefixes):
    if name.startswith("_") or name in known or not name.startswith(tuple(prefixes)):
        return None
    close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=TYPO_CUTOFF)
    return close[0] if close else None


def preflight_host(variables, specs, host, groups, known=None):
    """What is wrong with the variables set for host; a list of messages."""
    options, defaults, prefixes, known_names = _catalog(specs)
    known_names |= set(known or [])
    problems = []
    values = {}
    for name in list(variables):
        if name in options:
            try:
                found, value = _read(variables, name)
            except Problem as wrong:
                problems.append(f"{host}: {wrong}")
                continue
            if found:
                values[name] = value
                problems += [f"{host}: {text}" for text in check_value(name, value, options[name])]
        else:
            close = _typo(name, known_names, prefixes)
            if close:
                problems.append(
                    f"{host}: {name} is not a variable of hapair.stack and is ignored; did you mean {close}? "
                    "(a variable of your own: list it in preflight_known_variables)"
                )
    problems += _port_clashes(host, values, defaults, groups)
    problems += _node_rules(host, values, groups)
    problems += _name_resolution(host, values, defaults)
    return problems


def _port_clashes(host, values, defaults, groups):
    witnesses = set(groups.get("hapair_witnesses") or [])
    names = WITNESS_PORTS if host in witnesses else NODE_PORTS
    seen = {}
    problems = []
    for name in names:
        value = values.get(name, defaults.get(name))
        try:
            port = _int(value)
        except Problem:
            continue
        if port in seen:
            problems.append(
                f"{host}: {name} is {port}, which is also {seen[port]}; every service of a node needs its own port"
            )
        seen.setdefault(port, name)
    if host not in witnesses and "nginx_upstreams" not in values:
        upstream, canary = values.get("nginx_upstream_port", defaults.get("nginx_upstream_port")), \
            values.get("canary_port", defaults.get("canary_port"))
        if str(upstream) != str(canary):
            problems.append(
                f"{host}: nginx_upstream_port is {upstream} but canary_port is {canary}; Nginx's default upstreams "
                "are the canary on every node: set both alike (or list nginx_upstreams)"
            )
    return problems


def _node_rules(host, values, groups):
    """Rules between this host's own variables: prefix, VIPs in the subnet, bootstrap host."""
    problems = []
    address, prefix = values.get("hapair_node_address"), values.get("hapair_node_prefix")
    try:
        node = ipaddress.ip_address(str(address))
    except ValueError:
        return problems
    if prefix is not None:
        try:
            length = _int(prefix)
        except Problem:
            return problems
        low, high = (8, 30) if node.version == 4 else (8, 126)
        if not low <= length <= high:
            problems.append(
                f"{host}: hapair_node_prefix is {length}; set the prefix length of the nodes' subnet, "
                f"from {low} to {high} for IPv{node.version} (for example 24), so the subnet has room for the VIPs"
            )
            return problems
        subnet = ipaddress.ip_network(f"{node}/{length}", strict=False)
        for name in ("hapair_web_vip", "hapair_db_vip"):
            try:
                vip = ipaddress.ip_address(str(values.get(name) or ""))
            except ValueError:
                continue
            if vip not in subnet:
                problems.append(f"{host}: {name} is {vip}, outside the nodes' subnet {subnet} "
                                f"(hapair_node_address {node}, hapair_node_prefix {length}); pick a free address in it")
            elif subnet.num_addresses > 2 and vip in (subnet.network_address, subnet.broadcast_address):
                which = "network" if vip == subnet.network_address else "broadcast"
                problems.append(f"{host}: {name} is {vip}, the {which} address of {subnet}; pick a free host address in it")
    reserved = values.get("hapair_reserved_vips")
    if isinstance(reserved, (list, tuple)) and reserved:
        for name in ("hapair_web_vip", "hapair_db_vip"):
            vip = values.get(name)
            if vip and str(vip) not in [str(r) for r in reserved]:
                problems.append(f"{host}: {name} is {vip}, which is not in hapair_reserved_vips "
                                f"({', '.join(map(str, reserved))}); reserve it there, so no node is given it")
    if values.get("hapair_web_vip") and values.get("hapair_web_vip") == values.get("hapair_db_vip"):
        problems.append(f"{host}: hapair_db_vip is {values['hapair_db_vip']}, the same as hapair_web_vip; "
                        "each VIP needs its own address")
    bootstrap = values.get("mysql_gr_bootstrap_host")
    pair = groups.get(str(values.get("hapair_pair_group", "")), [])
    if bootstrap and pair and bootstrap not in pair:
        problems.append(f"{host}: mysql_gr_bootstrap_host is {bootstrap!r}, which is no node of its pair "
                        f"({', '.join(pair)}); name one of them")
    return problems


def _name_resolution(host, values, defaults):
    """An application host given by name, on a server that resolves no names."""
    settings = {}
    for name in ("mysql_gr_base_settings", "mysql_gr_settings"):
        layer = values.get(name, defaults.get(name))
        if isinstance(layer, dict):
            settings.update(layer)
    try:
        if not _bool(settings.get("skip_name_resolve", False)):
            return []
    except Problem:
        return []  # not a switch: mysqld itself refuses it
    app_host = str(values.get("mysql_gr_app_host", defaults.get("mysql_gr_app_host", "%")))
    if app_host == "localhost" or ADDRESS_HOST.match(app_host) or (":" in app_host and ADDRESS6_HOST.match(app_host)):
        return []
    return [f"{host}: mysql_gr_app_host is {app_host!r}, a host name, but the servers resolve no client names "
            "(skip_name_resolve is ON in mysql_gr_base_settings); give addresses (for example 192.0.2.% or %), "
            "or set skip_name_resolve: \"OFF\" in mysql_gr_settings"]


# --- the whole inventory -------------------------------------------------------

def _get(hostvars, host, name, default=None):
    try:
        value = hostvars[host][name] if name in hostvars[host] else default
    except Exception:  # noqa: BLE001 - a value that does not template is reported per host
        return default
    return default if value is None or _undefined(value) else value


def _web_and_db_vrids(hostvars, host):
    """The pair's router ids as keepalived's defaults make them (web 51, db web + 1)."""
    try:
        web = _int(_get(hostvars, host, "keepalived_web_virtual_router_id", 51))
    except Problem:
        return {}
    ids = {"keepalived_web_virtual_router_id": web}
    if _get(hostvars, host, "hapair_db_vip", ""):
        try:
            ids["keepalived_db_virtual_router_id"] = _int(
                _get(hostvars, host, "keepalived_db_virtual_router_id", web + 1))
        except Problem:
            pass
    for index, instance in enumerate(_get(hostvars, host, "keepalived_extra_instances", []) or []):
        if isinstance(instance, Mapping) and instance.get("name") != "db":
            try:
                ids[f"keepalived_extra_instances[{index}]"] = _int(instance.get("virtual_router_id"))
            except Problem:
                pass
    return ids


def preflight_inventory(hostvars, groups, pair_variables=None, group_variables=None, specs=None):
    """What is wrong with the inventory as a whole; a list of messages."""
    problems = []
    _unused, defaults, _unused, _unused = _catalog(specs or {})
    everyone = list(groups.get("all") or [])
    hapair = set(groups.get("hapair") or [])
    witnesses_group = set(groups.get("hapair_witnesses") or [])
    if not hapair:
        problems.append("No host is under the group hapair, so site.yml would do nothing: make each pair group "
                        "(the group hapair_pair_group names, and its witness group) a child of hapair")

    pairs, witness_of = {}, {}
    for host in everyone:
        pair = _get(hostvars, host, "hapair_pair_group")
        if pair is None:
            if host in hapair:
                problems.append(f"{host}: hapair_pair_group is not set; set it on the pair group to the group's name")
            continue
        pair = str(pair)
        if host not in hapair and host not in (groups.get(pair) or []):
            continue  # not a node of the group it names: a variable set for everyone
        if host not in hapair:
            problems.append(
                f"{host}: hapair_pair_group is '{pair}', but {host} is not under the group hapair, so site.yml "
                f"would skip it; make {pair} (and its witness group) a child of hapair"
            )
            continue
        witness = str(_get(hostvars, host, "hapair_witness_group", "") or "")
        if host in (groups.get(pair) or []):
            pairs.setdefault(pair, [])
            if host not in pairs[pair]:
                pairs[pair].append(host)
            if witness:
                witness_of.setdefault(pair, witness)
    for pair, witness in witness_of.items():
        for host in groups.get(witness) or []:
            if host not in hapair:
                problems.append(f"{pair}: hapair_witness_group is '{witness}', whose host {host} is not under the "
                                f"group hapair, so site.yml would skip it; make {witness} a child of hapair")
            elif host not in witnesses_group:
                problems.append(f"{pair}: hapair_witness_group is '{witness}', whose host {host} is not under the "
                                f"group hapair_witnesses; make {witness} a child of hapair_witnesses too")

    # Node addresses: one per host across every pair and witness.
    owners = {}
    for host in sorted(hapair):
        address = _get(hostvars, host, "hapair_node_address")
        if address is not None:
            owners.setdefault(str(address), []).append(host)
    for address, hosts in owners.items():
        if len(hosts) > 1:
            problems.append(f"{', '.join(hosts)}: hapair_node_address is {address} on each; "
                            "every host of the inventory needs its own address")

    # VIPs and router ids: one pair each, across the inventory.
    vip_users, vrid_users, reserved_users = {}, {}, {}
    for pair, hosts in sorted(pairs.items()):
        first = hosts[0]
        for name in ("hapair_web_vip", "hapair_db_vip"):
            vip = _get(hostvars, first, name, "")
            if vip:
                vip_users.setdefault(str(vip), []).append(f"{pair} ({name})")
                if str(vip) in owners:
                    problems.append(f"{pair}: {name} is {vip}, the hapair_node_address of "
                                    f"{', '.join(owners[str(vip)])}; a VIP must be an address no host uses")
        for vip in _get(hostvars, first, "hapair_reserved_vips", []) or []:
            reserved_users.setdefault(str(vip), set()).add(pair)
        for name, vrid in _web_and_db_vrids(hostvars, first).items():
            vrid_users.setdefault(vrid, []).append(f"{pair} ({name})")
    for vip, users in vip_users.items():
        if len(users) > 1:
            problems.append(f"{', '.join(users)}: the VIP {vip} is given more than once; "
                            "every VIP of the inventory needs its own address")
    for vip, users in reserved_users.items():
        if len(users) > 1:
            problems.append(f"{', '.join(sorted(users))}: hapair_reserved_vips of each holds {vip}; "
                            "reserve each address for one pair only")
    for vrid, users in vrid_users.items():
        if len(users) > 1:
            problems.append(
                f"{', '.join(users)}: the VRRP router id {vrid} is used more than once; give each pair of the "
                "inventory its own keepalived_web_virtual_router_id (and keepalived_db_virtual_router_id), "
                "for example 51 and 52 for one pair, 53 and 54 for the next"
            )

    # What a pair's hosts must agree on.
    for pair, hosts in sorted(pairs.items()):
        witness = witness_of.get(pair)
        members = hosts + [h for h in (groups.get(witness) or []) if witness and h in hapair]
        for names, who in ((pair_variables or [], hosts), (group_variables or [], members)):
            for name in names:
                # A host that leaves a templated default is not compared.
                values = {h: _get(hostvars, h, name, defaults.get(name)) for h in who}
                values = {h: v for h, v in values.items() if v is not None}
                if len({repr(v) for v in values.values()}) > 1:
                    shown = ", ".join(f"{h}={_shown(name, v)}" for h, v in values.items())
                    problems.append(f"{pair}: {name} differs between its hosts ({shown}); "
                                    "set it once, on the pair group")
        kafka_witness = _get(hostvars, hosts[0], "kafka_witness_group")
        if kafka_witness is not None and str(kafka_witness) != (witness or ""):
            problems.append(f"{pair}: kafka_witness_group is '{kafka_witness}' but hapair_witness_group is "
                            f"'{witness or ''}'; leave kafka_witness_group unset (it follows hapair_witness_group)")
    return problems


# --- option files ----------------------------------------------------------------

def mysql_option_value(value):
    """A value for a MySQL option file: double-quoted, with MySQL's escapes."""
    text = str(value)
    for raw, escaped in (("\\", "\\\\"), ('"', '\\"'), ("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t"), ("\b", "\\b")):
        text = text.replace(raw, escaped)
    return f'"{text}"'


class FilterModule:
    """The preflight's checks."""

    def filters(self):
        return {
            "preflight_specs": preflight_specs,
            "preflight_host": preflight_host,
            "preflight_inventory": preflight_inventory,
            "mysql_option_value": mysql_option_value,
        }
