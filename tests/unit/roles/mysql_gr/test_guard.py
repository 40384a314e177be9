"""The Group Replication guard's decisions, on recorded views of the group
(rows of performance_schema.replication_group_members), without MySQL."""

import importlib.util
from pathlib import Path

import pytest

GUARD = Path(__file__).resolve().parents[4] / "roles" / "mysql_gr" / "files" / "hapair-gr-guard.py"
UUID1 = "0a4bd628-8a4e-50f0-99ab-2c0568c2b901"
UUID2 = "7f0c0a4e-1111-4c1e-9d5b-000000000002"


def load_guard():
    spec = importlib.util.spec_from_file_location("hapair_gr_guard", GUARD)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


guard = load_guard()


def row(host, state, role="SECONDARY", me=False):
    return ("id-" + host, host, 3306, state, role, 1 if me else 0)


PAIR_HEALTHY = [row("10.0.0.1", "ONLINE", "PRIMARY", me=True), row("10.0.0.2", "ONLINE")]
PAIR_PEER_LOST = [row("10.0.0.1", "ONLINE", "PRIMARY", me=True), row("10.0.0.2", "UNREACHABLE")]
PAIR_FORCED = [row("10.0.0.1", "ONLINE", "PRIMARY", me=True)]
WITNESS_CUT_OFF = [row("10.0.0.1", "ONLINE", "PRIMARY", me=True), row("10.0.0.2", "UNREACHABLE"),
                   row("10.0.0.3", "UNREACHABLE")]
WITNESS_MAJORITY = [row("10.0.0.1", "ONLINE", "PRIMARY", me=True), row("10.0.0.2", "UNREACHABLE"),
                    row("10.0.0.3", "ONLINE")]
JOINING = [row("10.0.0.1", "ONLINE", "PRIMARY", me=True), row("10.0.0.2", "RECOVERING"),
           row("10.0.0.3", "UNREACHABLE")]


@pytest.mark.parametrize("rows, state, quorum", [
    (PAIR_HEALTHY, "ONLINE", True),
    (PAIR_PEER_LOST, "ONLINE", False),
    (PAIR_FORCED, "ONLINE", True),
    (WITNESS_CUT_OFF, "ONLINE", False),
    (WITNESS_MAJORITY, "ONLINE", True),
    ([row("10.0.0.1", "ERROR", "", me=True)], "ERROR", False),
    ([row("10.0.0.1", "RECOVERING", me=True), row("10.0.0.2", "ONLINE", "PRIMARY")], "RECOVERING", False),
    ([row("10.0.0.1", "ONLINE", "PRIMARY", me=True), row("10.0.0.2", "RECOVERING")], "ONLINE", True),
    (JOINING, "ONLINE", True),
    ([], "OFFLINE", False),
])
def test_quorum_is_a_majority_of_online_members_including_this_one(rows, state, quorum):
    view = guard.read_view(rows)
    assert view["state"] == state
    assert view["quorum"] is quorum


# A cut link between the pair's nodes, seen from each side, with the
# witness (10.0.0.3) reachable from both: a majority on both sides.
WITNESS_LINK_CUT_PRIMARY_SIDE = [row("10.0.0.1", "ONLINE", "PRIMARY", me=True), row("10.0.0.2", "UNREACHABLE"),
                                 row("10.0.0.3", "ONLINE")]
WITNESS_LINK_CUT_SECONDARY_SIDE = [row("10.0.0.1", "UNREACHABLE", "PRIMARY"), row("10.0.0.2", "ONLINE", me=True),
                                   row("10.0.0.3", "ONLINE")]


def test_in_a_cut_with_a_majority_on_both_sides_only_the_primary_side_keeps_the_vips():
    primary_side = guard.read_view(WITNESS_LINK_CUT_PRIMARY_SIDE)
    secondary_side = guard.read_view(WITNESS_LINK_CUT_SECONDARY_SIDE)
    assert primary_side["quorum"] and secondary_side["quorum"]
    assert primary_side["vips"] is True
    assert secondary_side["vips"] is False
    # Not a lost majority: the group itself settles it (it expels one side).
    assert guard.lost_majority(secondary_side) is None


@pytest.mark.parametrize("rows, vips", [
    (PAIR_HEALTHY, True), (PAIR_PEER_LOST, False), (PAIR_FORCED, True), (WITNESS_MAJORITY, True),
    ([row("10.0.0.1", "ONLINE", me=True), row("10.0.0.2", "ONLINE", "PRIMARY"), row("10.0.0.3", "ONLINE")], True),
])
def test_the_vips_follow_the_quorum_when_the_primary_is_reachable(rows, vips):
    assert guard.read_view(rows)["vips"] is vips


def test_the_quorum_file_says_whether_the_vips_may_stay(tmp_path):
    g = Recorder(config("witness", False, tmp_path, members=["ha1", "ha2", "w1"],
                        addresses=["10.0.0.1", "10.0.0.2", "10.0.0.3"]))
    g.read = lambda: guard.read_view(WITNESS_LINK_CUT_SECONDARY_SIDE)
    g.tick(0.0)
    assert (tmp_path / "quorum").read_text() == "1\n"
    g.read = lambda: guard.read_view(WITNESS_LINK_CUT_PRIMARY_SIDE)
    g.tick(1.0)
    assert (tmp_path / "quorum").read_text() == "0\n"


def test_a_lost_majority_names_the_unreachable_members():
    lost = guard.lost_majority(guard.read_view(WITNESS_CUT_OFF))
    assert [m["host"] for m in lost] == ["10.0.0.2", "10.0.0.3"]
    assert guard.lost_majority(guard.read_view(PAIR_HEALTHY)) is None
    assert guard.lost_majority(guard.read_view(WITNESS_MAJORITY)) is None


def test_a_member_joining_is_not_a_lost_majority():
    assert guard.lost_majority(guard.read_view(JOINING)) is None


@pytest.mark.parametrize("a, b, subset", [
    (f"{UUID1}:1-10", f"{UUID1}:1-333", True),
    (f"{UUID1}:1-334", f"{UUID1}:1-333", False),
    (f"{UUID1}:1-5:7-9", f"{UUID1}:1-9", True),
    (f"{UUID1}:1-9", f"{UUID1}:1-5:7-9", False),
    (f"{UUID1}:1-5,\n{UUID2}:1-2", f"{UUID2}:1-3,{UUID1}:1-5", True),
    (f"{UUID2}:1", f"{UUID1}:1-5", False),
    ("", f"{UUID1}:1-5", True),
    (f"{UUID1}:1-3", "", False),
    (f"{UUID1}:canary:1-3", f"{UUID1}:1-3", False),
    (f"{UUID1}:canary:1-3,{UUID1}:1-2", f"{UUID1}:1-5:canary:1-4", True),
    (f"{UUID1.upper()}:1-3", f"{UUID1}:1-5", True),
])
def test_gtid_set_containment(a, b, subset):
    assert guard.gtid_subset(a, b) is subset


ORDER = ["ha1", "ha2", "w1"]


def answers(**states):
    return {name: (None if value is None else {"state": value[0], "gtid": f"{UUID1}:1-{value[1]}"})
            for name, value in states.items()}


def test_heal_joins_a_running_group():
    assert guard.heal_choice("ha2", answers(ha1=("ONLINE", 90), ha2=("ERROR", 80)), ORDER[:2]) == ("join", None)


def test_heal_bootstraps_the_member_with_the_most_transactions():
    choice = answers(ha1=("OFFLINE", 80), ha2=("ERROR", 90))
    assert guard.heal_choice("ha2", choice, ORDER[:2]) == ("bootstrap", None)
    action, reason = guard.heal_choice("ha1", choice, ORDER[:2])
    assert action == "wait" and "ha2 holds the most transactions" in reason


def test_heal_prefers_the_preferred_node_on_equal_sets_and_never_the_witness():
    choice = answers(ha1=("OFFLINE", 90), ha2=("OFFLINE", 90), w1=("OFFLINE", 90))
    assert guard.heal_choice("ha1", choice, ORDER) == ("bootstrap", None)
    assert guard.heal_choice("w1", choice, ORDER)[0] == "wait"
    ahead = answers(ha1=("OFFLINE", 80), ha2=("OFFLINE", 80), w1=("OFFLINE", 90))
    assert guard.heal_choice("w1", ahead, ORDER) == ("bootstrap", None)


def test_heal_waits_for_a_member_that_does_not_answer():
    action, reason = guard.heal_choice("ha1", answers(ha1=("OFFLINE", 99), ha2=None), ORDER[:2])
    assert action == "wait" and "no answer from ha2" in reason


def test_heal_never_picks_between_diverged_sets():
    diverged = {"ha1": {"state": "OFFLINE", "gtid": f"{UUID1}:1-10"},
                "ha2": {"state": "OFFLINE", "gtid": f"{UUID1}:1-9,{UUID2}:1"}}
    action, reason = guard.heal_choice("ha1", diverged, ORDER[:2])
    assert action == "wait" and "diverged" in reason
    assert guard.heal_choice("ha2", diverged, ORDER[:2])[0] == "wait"


def config(topology, preferred, tmp_path, **extra):
    base = {"self": "ha1", "port": 3306, "topology": topology, "preferred": preferred,
            "members": ["ha1", "ha2"], "addresses": ["10.0.0.1", "10.0.0.2"],
            "socket": "/nonexistent", "quorum_file": str(tmp_path / "quorum"), "interval": 0.25, "quorum_grace": 2.0,
            "tiebreak_after": 1.0, "heal_after": 10.0, "fence_command": ["/bin/true"],
            "fence_after": 1.0, "fence_delay": 8.0, "fence_timeout": 5.0, "fence_retry": 5.0,
            "peer_user": "gr_recovery", "peer_password": "secret", "service": "mysql"}
    base.update(extra)
    return base


class Recorder(guard.Guard):
    """A guard whose actions are recorded instead of run."""

    def __init__(self, cfg):
        super().__init__(cfg)
        self.actions = []
        self.commands = []

    def start(self, action, *args):
        self.actions.append(action.__name__)

    def command(self, argv):
        self.commands.append(argv)


def run_views(g, timeline):
    """The actions the guard started over the timeline (and only those)."""
    g.actions = []
    for now, rows in timeline:
        view = guard.read_view(rows)
        g.write_quorum(view["quorum"])
        g.act(view, now)
    return g.actions


LEFT = [row("10.0.0.1", "ERROR", "", me=True)]


def test_the_preferred_node_of_a_tiebreaker_pair_restarts_its_server_then_bootstraps(tmp_path):
    g = Recorder(config("tiebreaker", True, tmp_path))
    assert run_views(g, [(0.0, PAIR_HEALTHY), (5.0, PAIR_PEER_LOST), (5.5, PAIR_PEER_LOST)]) == []
    assert (tmp_path / "quorum").read_text() == "1\n"
    # The vanished peer is cut off (routes, sockets) from the loss on.
    assert g.commands == [["ip", "route", "replace", "unreachable", "10.0.0.2/32"], ["ss", "-K", "dst", "10.0.0.2"]]
    # After tiebreak_after it leaves the blocked group at once (mysqld restarted) ...
    assert run_views(g, [(6.0, PAIR_PEER_LOST)]) == ["restart_server"]
    assert g.episode["entitled"] is True
    g.episode["restarted"] = True
    assert run_views(g, [(7.0, PAIR_PEER_LOST)]) == []
    # ... and once out, starts a group of its own; the cut stays until it runs.
    assert run_views(g, [(12.0, LEFT)]) == ["bootstrap_alone"]
    assert ["ip", "route", "del", "unreachable", "10.0.0.2/32"] not in g.commands
    # A failed bootstrap is tried again after a pause, never in a tight loop.
    assert run_views(g, [(13.0, LEFT)]) == []
    assert run_views(g, [(17.5, LEFT)]) == ["bootstrap_alone"]
    assert run_views(g, [(18.0, PAIR_FORCED)]) == []
    assert g.episode is None and (tmp_path / "quorum").read_text() == "0\n"


def test_the_other_node_of_a_tiebreaker_pair_never_continues_alone(tmp_path):
    g = Recorder(config("tiebreaker", False, tmp_path))
    # It steps out of the blocked group after tiebreak_after (mysqld restarted) ...
    assert run_views(g, [(0.0, PAIR_PEER_LOST), (0.5, PAIR_PEER_LOST)]) == []
    assert run_views(g, [(1.0, PAIR_PEER_LOST)]) == ["restart_server"]
    assert g.episode["entitled"] is False
    g.episode["restarted"] = True
    assert run_views(g, [(2.0, PAIR_PEER_LOST)]) == []
    # ... then only ever heals: joins a running group, or bootstraps when every member answers.
    timeline = [(8.0, LEFT), (30.0, LEFT), (60.0, LEFT)]
    assert set(run_views(g, timeline)) == {"heal"}
    # Its cut of the peer ends once it has left the blocked group, so it can join the peer's new group.
    assert g.commands[-1] == ["ip", "route", "del", "unreachable", "10.0.0.2/32"]
    assert (tmp_path / "quorum").read_text() == "1\n"


def test_a_view_that_shows_a_cut_off_peer_reachable_is_not_believed(tmp_path):
    g = Recorder(config("tiebreaker", True, tmp_path))
    views = iter([PAIR_HEALTHY, PAIR_PEER_LOST, PAIR_HEALTHY, PAIR_HEALTHY])
    g.read = lambda: guard.read_view(next(views))
    g.tick(0.0)
    g.tick(5.0)  # the peer lost: cut off from here
    assert g.episode["cut"] == ["10.0.0.2"]
    # Group Replication says the peer is reachable again, through the cut: still no quorum,
    # the episode (and its cut) goes on, and the tie-breaker entitles this node.
    g.tick(5.5)
    assert g.episode is not None and (tmp_path / "quorum").read_text() == "1\n"
    g.tick(6.0)
    assert g.episode["entitled"] is True
    assert ["ip", "route", "del", "unreachable", "10.0.0.2/32"] not in g.commands


def test_a_membership_forced_by_an_operator_ends_the_episode(tmp_path):
    # recover.yml forces the group to the node that is not preferred while its guard is in an episode:
    # the view without the lost member is real, and the guard no longer steps out of it.
    g = Recorder(config("tiebreaker", False, tmp_path))
    views = iter([PAIR_PEER_LOST, PAIR_FORCED, PAIR_FORCED])
    g.read = lambda: guard.read_view(next(views))
    g.tick(0.0)
    assert g.episode["cut"] == ["10.0.0.2"]
    g.tick(0.5)
    assert g.episode is None and (tmp_path / "quorum").read_text() == "0\n"
    g.tick(2.0)
    assert g.actions == [] and ["ip", "route", "del", "unreachable", "10.0.0.2/32"] in g.commands


def test_a_witness_pair_never_continues_alone(tmp_path):
    g = Recorder(config("witness", True, tmp_path))
    assert run_views(g, [(t, WITNESS_CUT_OFF) for t in (0.0, 5.0, 60.0)]) == []
    assert g.commands == []


def test_fencing_waits_longer_on_the_node_that_is_not_preferred(tmp_path):
    preferred = Recorder(config("fencing", True, tmp_path))
    other = Recorder(config("fencing", False, tmp_path))
    timeline = [(0.0, PAIR_PEER_LOST), (1.0, PAIR_PEER_LOST), (8.5, LEFT), (9.0, LEFT)]
    assert run_views(preferred, timeline[:2]) == ["fence"]
    assert run_views(other, timeline[:3]) == []
    assert run_views(other, timeline[3:]) == ["fence"]


def test_fencing_continues_alone_only_after_a_confirmed_fence(tmp_path):
    g = Recorder(config("fencing", True, tmp_path, fence_command=["/bin/false", "{node}"]))
    episode = {"since": 0.0, "lost": guard.lost_majority(guard.read_view(PAIR_PEER_LOST)), "entitled": False}
    g.fence(None, episode)
    assert episode["entitled"] is False and g.commands == []
    g = Recorder(config("fencing", True, tmp_path, fence_command=["/bin/sh", "-c", "test {node} = ha2"]))
    g.fence(None, episode)
    assert episode["entitled"] is True


def test_a_fence_command_is_confirmed_by_its_exit_status(tmp_path):
    g = guard.Guard(config("fencing", True, tmp_path, fence_command=["/bin/false", "{node}"]))
    assert g.fence_all(guard.lost_majority(guard.read_view(PAIR_PEER_LOST))) is False
    g = guard.Guard(config("fencing", True, tmp_path, fence_command=["/bin/sh", "-c", "test {node} = ha2"]))
    assert g.fence_all(guard.lost_majority(guard.read_view(PAIR_PEER_LOST))) is True


def test_a_member_outside_the_group_heals_after_the_delay(tmp_path):
    g = Recorder(config("tiebreaker", False, tmp_path))
    out = [row("10.0.0.2", "ERROR", "", me=True)]
    assert run_views(g, [(0.0, out), (9.9, out)]) == []
    assert run_views(g, [(10.0, out)]) == ["heal"]
    assert run_views(g, [(15.0, out)]) == []
    assert run_views(g, [(20.0, out)]) == ["heal"]
    assert run_views(g, [(21.0, PAIR_HEALTHY), (40.0, PAIR_HEALTHY)]) == []


def test_heal_waits_while_a_member_starts_or_stops_its_group():
    choice = answers(ha1=("OFFLINE", 90), ha2=("ERROR", 90))
    choice["ha2"]["busy"] = True
    action, reason = guard.heal_choice("ha1", choice, ORDER[:2])
    assert action == "wait" and "ha2 is starting or stopping" in reason


def test_a_fencing_survivor_restarts_its_server_then_bootstraps(tmp_path):
    g = Recorder(config("fencing", False, tmp_path))
    lost_primary = [row("10.0.0.1", "ONLINE", "SECONDARY", me=True), row("10.0.0.2", "UNREACHABLE", "PRIMARY")]
    assert run_views(g, [(0.0, lost_primary), (9.0, lost_primary)]) == ["fence"]
    g.episode["entitled"] = True  # the fence was confirmed
    assert run_views(g, [(15.0, lost_primary)]) == ["restart_server"]
    g.episode["restarted"] = True
    # mysqld down a moment: the episode (and its entitlement) survives it.
    g.read = lambda: None
    g.tick(18.0)
    assert g.episode is not None and g.episode["entitled"]
    del g.read
    assert run_views(g, [(21.0, LEFT)]) == ["bootstrap_alone"]


def test_a_round_that_cannot_read_the_member_keeps_the_quorum_for_the_grace(tmp_path):
    g = Recorder(config("tiebreaker", True, tmp_path))
    run_views(g, [(0.0, PAIR_HEALTHY)])
    g.read = lambda: None
    g.tick(1.0)
    g.tick(2.5)
    assert (tmp_path / "quorum").read_text() == "0\n"
    g.tick(3.0)
    assert (tmp_path / "quorum").read_text() == "1\n"


def test_padding_fills_the_numbers_after_each_interval_up_to_the_next():
    assert guard.padding(UUID1, f"{UUID1}:1-100:1000001-1000050", 10) == f"{UUID1}:101-110:1000051-1000060"
    # A gap shorter than the count is filled only up to the next interval; other sources are left alone.
    assert guard.padding(UUID1.upper(), f"{UUID1}:1-10:13-20,\n{UUID2}:1-5", 5) == f"{UUID1}:11-12:21-25"
    assert guard.padding(UUID1, f"{UUID2}:1-5", 5) == ""
    assert list(guard.numbers(f"{UUID1}:5-6:9")) == [f"{UUID1}:5", f"{UUID1}:6", f"{UUID1}:9"]


class FakeCursor:
    """Answers the guard's padding and incarnation queries from a member's
    GTID numbers (one source, UUID1) and its incarnations table."""

    def __init__(self, member):
        self.member = member
        self.statements = []
        self.result = []

    def __enter__(self):
        return self

    def __exit__(self, *_exc):
        return False

    def execute(self, statement, args=None):
        self.statements.append((statement, args))
        if statement.startswith("SELECT @@GLOBAL.group_replication_group_name"):
            self.result = [(UUID1, self.member["executed"], 1, 1, 1)]
        elif statement.startswith("SELECT id, padded"):
            self.result = sorted(self.member["incarnations"].items())
        elif statement.startswith("SELECT GTID_SUBTRACT"):
            padded = {int(g.rsplit(":", 1)[1]) for g in guard.numbers(args[0])}
            both = sorted(padded & self.member["numbers"])
            self.result = [(",".join(f"{UUID1}:{n}" for n in both),)]
        else:
            self.result = []

    def fetchone(self):
        return self.result[0]

    def fetchall(self):
        return self.result


class FakeConnection:
    def __init__(self, member):
        self.cursor_ = FakeCursor(member)

    def cursor(self):
        return self.cursor_


def test_a_member_continuing_alone_pads_before_its_group_starts(tmp_path):
    g = Recorder(config("tiebreaker", True, tmp_path))
    conn = FakeConnection({"executed": f"{UUID1}:1-100", "incarnations": {}, "numbers": set()})
    assert g.pad(conn) == f"{UUID1}:101-165"  # max_connections 1 + PAD_SLACK 64
    statements = [s for s, _args in conn.cursor_.statements]
    assert statements.count("COMMIT") == 65
    # Durability relaxed for the empty transactions only, and restored.
    assert statements[-3:] == ["SET gtid_next = 'AUTOMATIC'", "SET GLOBAL sync_binlog = %s",
                               "SET GLOBAL innodb_flush_log_at_trx_commit = %s"]


def joining(g, me, donor_incarnations):
    """settle() on a member outside the group while ha1 runs one: what it did."""
    done = []
    g.start_group = lambda conn, action, why: done.append(action)
    g.clone_from = lambda conn, donor, errant: done.append(("clone", donor, errant))
    answers_ = {"ha1": {"state": "ONLINE", "gtid": f"{UUID1}:1-300", "incarnations": donor_incarnations},
                "ha2": {"state": "OFFLINE", "gtid": f"{UUID1}:1-101"}}
    g.settle(FakeConnection(me), answers_, "outside any group")
    return done


def test_a_member_holding_a_number_the_group_padded_is_cloned_not_joined(tmp_path):
    cfg = config("tiebreaker", False, tmp_path, self="ha2")
    g = Recorder(cfg)
    padded = {"inc-1": f"{UUID1}:101-165"}
    # ha2 committed 101, which ha1 (its origin) never did: ha1 padded 101 when it continued alone.
    me = {"incarnations": {}, "numbers": set(range(1, 102))}
    assert joining(g, me, padded) == [("clone", "ha1", f"{UUID1}:101")]
    # Without such a transaction it joins.
    me = {"incarnations": {}, "numbers": set(range(1, 101))}
    assert joining(g, me, padded) == ["join"]
    # A member that already has the incarnation's row got the padding from the group itself.
    me = {"incarnations": padded, "numbers": set(range(1, 166))}
    assert joining(g, me, padded) == ["join"]


@pytest.mark.parametrize("code", [1049, 1146])
def test_no_incarnations_before_the_first(code):
    class Missing:
        def execute(self, *_args):
            raise guard.pymysql.err.OperationalError(code, "no such database or table")
    assert guard.Guard.incarnations(Missing()) == {}
