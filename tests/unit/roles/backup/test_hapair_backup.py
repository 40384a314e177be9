"""hapair-backup's decisions where they are pure: which member backs up,
which archives and binary logs a restore uses, the metrics file. Its run
against MySQL and Borg is checked in the lab and in Molecule
(molecule/default/tests/test_x_backup_restore.py)."""

import datetime as dt
import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[4] / "roles" / "backup" / "files" / "hapair-backup.py"
UTC = dt.timezone.utc


@pytest.fixture(scope="module")
def hb():
    spec = importlib.util.spec_from_file_location("hapair_backup", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def member(uuid, host, state="ONLINE", role="SECONDARY"):
    return {"id": uuid, "host": host, "state": state, "role": role}


PAIR = ["10.0.0.11", "10.0.0.12"]


def test_an_online_secondary_backs_up(hb):
    rows = [member("a", "10.0.0.11", role="PRIMARY"), member("b", "10.0.0.12")]
    assert hb.decide(rows, "b", PAIR)[0] is True


def test_the_primary_skips_while_a_pair_secondary_is_online(hb):
    rows = [member("a", "10.0.0.11", role="PRIMARY"), member("b", "10.0.0.12")]
    run, reason = hb.decide(rows, "a", PAIR)
    assert run is False
    assert "10.0.0.12" in reason and "PRIMARY" in reason


@pytest.mark.parametrize("state", ["RECOVERING", "UNREACHABLE", "OFFLINE", "ERROR"])
def test_the_primary_backs_up_when_no_pair_secondary_is_online(hb, state):
    rows = [member("a", "10.0.0.11", role="PRIMARY"), member("b", "10.0.0.12", state=state)]
    assert hb.decide(rows, "a", PAIR)[0] is True


def test_a_witness_secondary_does_not_count_for_the_primary(hb):
    rows = [member("a", "10.0.0.11", role="PRIMARY"), member("w", "10.0.0.13")]
    assert hb.decide(rows, "a", PAIR)[0] is True


@pytest.mark.parametrize("rows", [[], [member("b", "10.0.0.12", state="RECOVERING")],
                                  [member("b", "10.0.0.12", state="OFFLINE", role="")]])
def test_a_member_that_is_not_online_never_backs_up(hb, rows):
    run, reason = hb.decide(rows, "b", PAIR)
    assert run is False
    assert "not ONLINE" in reason


def test_parse_tsv_maps_columns_and_null(hb):
    assert hb.parse_tsv("a\tNULL\n\nb\t2\n", ["x", "y"]) == [{"x": "a", "y": None}, {"x": "b", "y": "2"}]


def test_closed_binlogs_leave_the_current_file_out(hb):
    assert hb.closed_binlogs(["binlog.000001", "binlog.000002", "binlog.000003"]) == ["binlog.000001", "binlog.000002"]
    assert hb.closed_binlogs(["binlog.000009"]) == []


def test_binlog_index_orders_past_six_digits(hb):
    names = ["binlog.1000000", "binlog.000010", "binlog.000002"]
    assert sorted(names, key=hb.binlog_index) == ["binlog.000002", "binlog.000010", "binlog.1000000"]
    with pytest.raises(hb.BackupError):
        hb.binlog_index("binlog.index")


def test_archive_names_round_trip_in_utc(hb):
    when = dt.datetime(2026, 12, 3, 5, 6, 7, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    name = hb.archive_name("ha2", "db", when)
    assert name == "ha2-db-20261203T030607Z"
    assert hb.archive_time(name) == dt.datetime(2026, 12, 3, 3, 6, 7, tzinfo=UTC)
    assert hb.archive_time("ha2-db-checkpoint") is None


NAMES = ["ha2-db-20261201T023000Z", "ha2-db-20261202T023000Z", "ha2-db-20261203T023000Z",
         "ha1-db-20261203T030000Z", "ha2-binlog-20261203T031500Z", "ha2-binlog-20261203T030000Z",
         "ha2-db-20261202T023000Z.checkpoint"]


@pytest.mark.parametrize("until, expected", [
    (None, "ha2-db-20261203T023000Z"),
    (dt.datetime(2026, 12, 3, 2, 30, 0, tzinfo=UTC), "ha2-db-20261203T023000Z"),
    (dt.datetime(2026, 12, 3, 2, 29, 59, tzinfo=UTC), "ha2-db-20261202T023000Z"),
    (dt.datetime(2026, 12, 1, 0, 0, 0, tzinfo=UTC), None),
])
def test_pick_archive_takes_the_newest_of_the_host_at_or_before_the_point(hb, until, expected):
    assert hb.pick_archive(NAMES, "ha2", "db", until) == expected


def test_pick_archive_keeps_hosts_and_kinds_apart(hb):
    assert hb.pick_archive(NAMES, "ha1", "db") == "ha1-db-20261203T030000Z"
    assert hb.pick_archive(NAMES, "ha2", "binlog") == "ha2-binlog-20261203T031500Z"
    assert hb.pick_archive(NAMES, "ha", "db") is None


HEAD = """# The proper term is pseudo_replica_mode, but we use this compatibility alias
# at 4
#261203  3:40:01 server id 2887538188  end_log_pos 127 CRC32 0x1  Start: binlog v 4, server v 9.7.4 created
# at 127
#261203  3:40:01 server id 2887538188  end_log_pos 198 CRC32 0x2  Previous-GTIDs
{gtids}
# at 198
"""


@pytest.mark.parametrize("gtids, expected", [
    ("# [empty]", ""),
    ("# 8a0c1b84-7f34-3b8d-9a41-6f1e0c2a5b11:1-1042", "8a0c1b84-7f34-3b8d-9a41-6f1e0c2a5b11:1-1042"),
    ("# 8a0c1b84-7f34-3b8d-9a41-6f1e0c2a5b11:1-1042,\n# 9b1d2c95-0000-4000-8000-000000000001:1-7",
     "8a0c1b84-7f34-3b8d-9a41-6f1e0c2a5b11:1-1042,9b1d2c95-0000-4000-8000-000000000001:1-7"),
])
def test_previous_gtids_are_read_from_the_binlog_head(hb, gtids, expected):
    assert hb.parse_previous_gtids(HEAD.format(gtids=gtids)) == expected


def test_a_binlog_without_previous_gtids_is_an_error(hb):
    with pytest.raises(hb.BackupError):
        hb.parse_previous_gtids("# at 4\n")


@pytest.mark.parametrize("covered, start", [
    ([True, True, True, False, False], 2),   # file 2 holds the first transactions past the clone
    ([True], 0),
    ([True, True], 1),
    ([False, False], None),                   # a gap: the first file starts past the clone
    ([], None),
])
def test_first_needed_is_the_last_file_the_clone_covers(hb, covered, start):
    assert hb.first_needed(covered) == start


@pytest.mark.parametrize("text, expected", [
    ("2026-12-03T04:10:00Z", dt.datetime(2026, 12, 3, 4, 10, tzinfo=UTC)),
    ("2026-12-03T04:10:00", dt.datetime(2026, 12, 3, 4, 10, tzinfo=UTC)),
    ("2026-12-03 06:10:00.250+02:00", dt.datetime(2026, 12, 3, 4, 10, 0, 250000, tzinfo=UTC)),
])
def test_parse_until_is_utc(hb, text, expected):
    assert hb.parse_until(text) == expected


def test_metrics_round_trip_and_keep_integers(hb):
    text = hb.metrics_text({"last_success_timestamp_seconds": 1764730000.0, "last_duration_seconds": 12.3456,
                            "repository_size_bytes": 1048576})
    assert "# TYPE hapair_backup_last_success_timestamp_seconds gauge" in text
    assert "hapair_backup_last_success_timestamp_seconds 1764730000\n" in text
    assert "hapair_backup_last_duration_seconds 12.346\n" in text
    assert hb.parse_metrics(text) == {"last_success_timestamp_seconds": 1764730000.0,
                                      "last_duration_seconds": 12.346, "repository_size_bytes": 1048576.0}


def test_scratch_cnf_is_a_mysqld_section(hb):
    text = hb.scratch_cnf({"port": 3307, "skip_log_bin": None, "gtid_mode": "ON"})
    assert text == "[mysqld]\nport = 3307\nskip_log_bin\ngtid_mode = ON\n"


def gtid_event(end, seq, committed):
    """The header line mysqlbinlog prints for a transaction's GTID event."""
    fields = [f"last_committed={seq - 1}", f"sequence_number={seq}", "rbr_only=yes",
              f"original_committed_timestamp={committed}", f"immediate_commit_timestamp={committed + 100}",
              "transaction_length=300"]
    return f"#261203  3:40:01 server id 1  end_log_pos {end} CRC32 0x2 \tGTID\t" + "\t".join(fields)


BINLOG = "\n".join([
    "# at 4",
    "#261203  3:40:01 server id 1  end_log_pos 127 CRC32 0x1  Start: binlog v 4, server v 9.7.4 created",
    "# at 198", gtid_event(275, 1, 1_000_000),
    "SET @@SESSION.GTID_NEXT= 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa:1'/*!*/;",
    "# original_commit_timestamp=1000000 (1970-01-01 00:00:01.000000 UTC)",
    "# at 498", gtid_event(575, 2, 2_500_000),
    "# at 798", gtid_event(875, 3, 2_999_999),
]) + "\n"


@pytest.mark.parametrize("until_us, expected", [
    (2_500_000, (498, 1_000_000)),    # a commit AT the point is after it
    (2_500_001, (798, 2_500_000)),    # same second as the next one: the microseconds decide
    (3_000_000, (None, 2_999_999)),   # every transaction before the point
    (500_000, (198, None)),           # none before it
])
def test_stop_point_is_the_first_transaction_committed_at_or_after_the_point(hb, until_us, expected):
    assert hb.stop_point(BINLOG.splitlines(), until_us) == expected
