"""The exporters role's textfile script (roles/exporters/files/hapair-textfile.py):
its pure parts, on recorded data; its life on a node is checked by the role's
verify step."""

import importlib.util
from pathlib import Path

import pytest

ROLE = Path(__file__).resolve().parents[4] / "roles" / "exporters" / "files"


@pytest.fixture(scope="module")
def textfile():
    spec = importlib.util.spec_from_file_location("hapair_textfile", ROLE / "hapair-textfile.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


IP_O_ADDR = """\
1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever
2: eth0    inet 172.28.84.11/24 brd 172.28.84.255 scope global eth0\\       valid_lft forever preferred_lft forever
2: eth0    inet 172.28.84.100/24 scope global secondary eth0\\       valid_lft forever preferred_lft forever
"""

MANIFEST = {
    "state_dir": "/var/lib/hapair/vrrp",
    "instances": [
        {"name": "web", "vips": ["172.28.84.100/24"]},
        {"name": "db", "vips": [{"address": "172.28.84.101"}]},
    ],
}


def samples(metrics):
    return {(name, tuple(sorted(labels.items()))): value for name, labels, value in metrics.samples}


def test_ip_o_addr(textfile):
    assert textfile.parse_ip_o_addr(IP_O_ADDR) == {"127.0.0.1", "172.28.84.11", "172.28.84.100"}


def test_vips_and_states(textfile):
    metrics = textfile.Metrics()
    textfile.vip_metrics(metrics, MANIFEST, textfile.parse_ip_o_addr(IP_O_ADDR), {"web": "MASTER", "db": "FAULT"}, True)
    got = samples(metrics)
    assert got[("hapair_vip_present", (("vip", "172.28.84.100"), ("vrrp_instance", "web")))] == 1
    assert got[("hapair_vip_present", (("vip", "172.28.84.101"), ("vrrp_instance", "db")))] == 0
    assert got[("hapair_vrrp_state", (("state", "FAULT"), ("vrrp_instance", "db")))] == 1
    assert got[("hapair_vrrp_state", (("state", "MASTER"), ("vrrp_instance", "db")))] == 0


def test_keepalived_stopped_is_stop(textfile):
    metrics = textfile.Metrics()
    textfile.vip_metrics(metrics, MANIFEST, set(), {"web": "MASTER"}, False)
    got = samples(metrics)
    assert got[("hapair_vrrp_state", (("state", "STOP"), ("vrrp_instance", "web")))] == 1


def summary(state, members):
    return {"state": state, "role": "PRIMARY", "applier_queue": 3, "certification_queue": 0,
            "members": [{"host": h, "state": s, "role": r} for h, s, r in members]}


def test_gr_whole_group_has_quorum(textfile):
    metrics = textfile.Metrics()
    textfile.gr_metrics(metrics, summary("ONLINE", [("a", "ONLINE", "PRIMARY"), ("b", "ONLINE", "SECONDARY")]))
    got = samples(metrics)
    assert got[("hapair_gr_quorum", ())] == 1
    assert got[("hapair_gr_applier_queue", ())] == 3


def test_gr_half_a_group_has_no_quorum(textfile):
    metrics = textfile.Metrics()
    textfile.gr_metrics(metrics, summary("ONLINE", [("a", "ONLINE", "PRIMARY"), ("b", "UNREACHABLE", "SECONDARY")]))
    got = samples(metrics)
    assert got[("hapair_gr_quorum", ())] == 0
    assert got[("hapair_gr_member_state", (("member", "b"), ("role", "SECONDARY"), ("state", "UNREACHABLE")))] == 1


def test_kafka_quorum_without_leader(textfile):
    metrics = textfile.Metrics()
    textfile.kafka_metrics(metrics, 2, 0, {"error": "TimeoutError", "leader_id": None, "voters": []})
    got = samples(metrics)
    assert got[("hapair_kafka_quorum_leader", ())] == 0
    assert got[("hapair_kafka_under_replicated_partitions", ())] == 2


def test_render_is_prometheus_text(textfile):
    metrics = textfile.Metrics()
    metrics.add("hapair_x", 1, {"a": 'say "hi"'}, "An x.")
    metrics.add("hapair_x", 0, {"a": "b"}, "An x.")
    text = metrics.render()
    assert text.count("# TYPE hapair_x gauge") == 1
    assert 'hapair_x{a="say \\"hi\\""} 1.0' in text


def test_a_failing_part_is_reported_without_its_config(textfile, capsys):
    config = {"parts": {"vip": False, "kafka": False, "units": False}, "mysql_user": "u",
              "mysql_password": "s3cret-value", "mysql_socket": "/nonexistent/socket"}
    text = textfile.collect(config)
    assert 'hapair_textfile_part_up{part="gr"} 0.0' in text
    assert "s3cret-value" not in capsys.readouterr().err


def test_the_kafka_part_calls_the_collections_client_as_it_is_defined(textfile, monkeypatch):
    """The script imports the collection's Kafka code (hapair_kafka, a copy of
    plugins/module_utils/kafka.py) on the node: every call it makes must fit
    that code's signatures, and a recorded healthy cluster must read as one
    (a call that no longer fits was swallowed as a quorum without leader)."""
    import inspect
    import json
    import sys
    import types

    from ansible_collections.hapair.stack.plugins.module_utils import kafka as real

    recorded = json.loads((Path(__file__).resolve().parents[2] / "fixtures" / "kafka" / "healthy.json").read_text())
    fake = types.ModuleType("hapair_kafka")
    for name in dir(real):
        if name.startswith(("parse_", "quorum_", "under_")) or name in ("HAS_KAFKA", "KAFKA_LIBRARY"):
            setattr(fake, name, getattr(real, name))
    fake.HAS_KAFKA = True

    def fitting(name, answer):
        def call(*args, **kwargs):
            inspect.signature(getattr(real, name)).bind(*args, **kwargs)
            return answer(*args)
        return call

    class Admin:
        def close(self):
            pass

    fake.connect = fitting("connect", lambda servers, timeout: Admin())
    fake.fetch_topics = fitting("fetch_topics", lambda admin, names=None: recorded["topics"])
    fake.fetch_quorum = fitting("fetch_quorum", lambda servers, timeout: (
        isinstance(servers, str) or pytest.fail("fetch_quorum takes the bootstrap servers")) and recorded["quorum"])
    monkeypatch.setitem(sys.modules, "hapair_kafka", fake)
    metrics = textfile.Metrics()
    textfile.read_kafka(metrics, {"kafka_bootstrap": "172.28.79.11:9092,172.28.79.12:9092", "kafka_timeout": 1})
    got = samples(metrics)
    assert got[("hapair_kafka_quorum_leader", ())] == 1
    assert got[("hapair_kafka_quorum_voters", ())] == got[("hapair_kafka_quorum_voters_fetching", ())] > 0


# The log shipper's progress. Recorded from Flume 1.11's TAILDIR position
# file and rsyslog's imfile state files (8.1905 and later name them
# imfile-state:<inode>:<file id>).
FLUME_POSITIONS = (
    '[{"inode":1835021,"pos":52311,"file":"/var/log/nginx/access.json"},'
    '{"inode":1835030,"pos":1204,"file":"/var/log/mysql/error.log"}]'
)
RSYSLOG_STATE = '{ "filename": "\\/var\\/log\\/nginx\\/access.json", "prev_was_nl": 1, "curr_offs": 52311, "strt_offs": 52311 }'


def test_flume_positions(textfile):
    assert textfile.parse_flume_positions(FLUME_POSITIONS) == {1835021: 52311, 1835030: 1204}


def test_flume_position_file_being_rewritten_is_empty(textfile):
    # Flume truncates the file, then writes it: an empty read is no position.
    assert textfile.parse_flume_positions("") == {}


def test_flume_position_file_cut_short_is_an_error(textfile):
    with pytest.raises(ValueError):
        textfile.parse_flume_positions(FLUME_POSITIONS[:40])


@pytest.mark.parametrize("name", ["imfile-state:1835021", "imfile-state:1835021:9a3e1b07c4d2f6a8"])
def test_rsyslog_state(textfile, name):
    assert textfile.parse_rsyslog_state(name, RSYSLOG_STATE) == (1835021, 52311)


def test_rsyslog_queue_files_are_not_states(textfile):
    assert textfile.parse_rsyslog_state("hapair_kafka_access.qi", "") is None


def test_shipper_files_by_the_shippers_own_patterns(textfile):
    names = ["access.json", "access.json.1", "error.log", "app-1.log", "app-2.log"]
    assert textfile.shipper_file_matches("/var/log/nginx/access.json", names, "flume") == ["access.json"]
    assert textfile.shipper_file_matches("/var/log/app/app-[0-9].log", names, "flume") == ["app-1.log", "app-2.log"]
    assert textfile.shipper_file_matches("/var/log/app/app-*.log", names, "rsyslog") == ["app-1.log", "app-2.log"]
    assert textfile.shipper_file_matches("/var/log/nginx/access.json", names, "rsyslog") == ["access.json"]


def test_shipper_lag(textfile):
    files = [
        {"path": "/var/log/nginx/access.json", "inode": 1835021, "size": 60000},
        {"path": "/var/log/mysql/error.log", "inode": 1835030, "size": 1204},
        # Rotated: a new inode the shipper has not opened yet.
        {"path": "/var/log/app.log", "inode": 77, "size": 300},
        # Truncated below the position (copytruncate): no lag.
        {"path": "/var/log/other.log", "inode": 78, "size": 10},
    ]
    metrics = textfile.Metrics()
    textfile.shipper_metrics(metrics, "flume", files, {1835021: 52311, 1835030: 1204, 78: 500})
    got = samples(metrics)

    def value(name, path):
        return got[(name, (("file", path), ("unit", "flume")))]

    assert value("hapair_log_shipper_lag_bytes", "/var/log/nginx/access.json") == 60000 - 52311
    assert value("hapair_log_shipper_position_bytes", "/var/log/nginx/access.json") == 52311
    assert value("hapair_log_shipper_file_size_bytes", "/var/log/nginx/access.json") == 60000
    assert value("hapair_log_shipper_lag_bytes", "/var/log/mysql/error.log") == 0
    assert value("hapair_log_shipper_lag_bytes", "/var/log/app.log") == 300
    assert value("hapair_log_shipper_position_bytes", "/var/log/app.log") == 0
    assert value("hapair_log_shipper_lag_bytes", "/var/log/other.log") == 0


def test_shipper_part_on_a_node(textfile, tmp_path):
    """The part as it runs: real files, a Flume position file, one of them
    behind; an unreadable position file sets the part down."""
    log = tmp_path / "access.json"
    log.write_text("x" * 1000)
    positions = tmp_path / "taildir_position.json"
    positions.write_text('[{"inode":%d,"pos":400,"file":"%s"}]' % (log.stat().st_ino, log))
    config = {"parts": {"vip": False, "gr": False, "kafka": False, "units": False},
              "shipper": {"kind": "flume", "unit": "flume", "files": [str(log), str(tmp_path / "gone" / "x.log")],
                          "position_file": str(positions), "state_dir": str(tmp_path)}}
    text = textfile.collect(config)
    assert 'hapair_log_shipper_lag_bytes{file="%s",unit="flume"} 600.0' % log in text
    assert 'hapair_textfile_part_up{part="shipper"} 1.0' in text

    positions.write_text('[{"inode":')
    text = textfile.collect(config)
    assert 'hapair_textfile_part_up{part="shipper"} 0.0' in text
    assert "hapair_log_shipper_lag_bytes" not in text


def test_shipper_part_with_rsyslog_states(textfile, tmp_path):
    log = tmp_path / "access.json"
    log.write_text("y" * 800)
    inode = log.stat().st_ino
    (tmp_path / ("imfile-state:%d:0123abcd" % inode)).write_text('{"curr_offs": 800}')
    (tmp_path / "hapair_kafka_access.qi").write_text("queue")
    config = {"parts": {"vip": False, "gr": False, "kafka": False, "units": False},
              "shipper": {"kind": "rsyslog", "unit": "rsyslog", "files": [str(tmp_path / "*.json")],
                          "position_file": "", "state_dir": str(tmp_path)}}
    text = textfile.collect(config)
    assert 'hapair_log_shipper_lag_bytes{file="%s",unit="rsyslog"} 0.0' % log in text
    assert 'hapair_log_shipper_position_bytes{file="%s",unit="rsyslog"} 800.0' % log in text
