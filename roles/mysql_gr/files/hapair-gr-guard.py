#!/usr/bin/python3
"""hapair-gr-guard: keeps a Group Replication member's pair honest.

Runs on every member of a pair's group (the pair's nodes and the witness),
as root, next to mysqld. Every ``interval`` seconds it reads this member's
view of the group over the local socket and:

1. Quorum. Writes ``0`` to the quorum file when this member is ONLINE in a
   view whose ONLINE members are a majority of it and whose primary is
   reachable from here, ``1`` otherwise (mysqld down, member outside the
   group, a minority that Group Replication blocks, or a member cut off
   from its primary while the group has not expelled either yet). keepalived tracks that file (``track_file``, weight 0): a node
   without quorum goes to FAULT and drops the web and database VIPs, so a
   cut-off node stops taking traffic and only the majority side serves.

2. Tie-breaker (topology ``tiebreaker``, on the preferred node only). When
   this member, ONLINE, has lost its majority because every other member is
   UNREACHABLE, for ``tiebreak_after`` seconds, it continues alone: it
   leaves the blocked group at once by restarting its mysqld (Group
   Replication lets go of a member whose host vanished only after tens of
   seconds: forcing the membership took 3.6 to 39 s here and often ended
   only when the group gave up, and leaving the group waits 30 s for its
   connections to the lost host), then bootstraps a new group from itself.
   The others join that group when they return. The other node never does
   this, so the two can never both continue alone: it leaves the blocked
   group the same way (mysqld restarted) and stays out until the healing
   rule lets it join, so that no stale member of the old group is left to
   talk to the new one. From the loss until then, the lost members'
   addresses are unreachable from this node (a route, and their sockets
   destroyed), so nothing waits on a silent host, and a view that shows
   them reachable again meanwhile is not believed.

3. Fencing (topology ``fencing``). Same trigger on either node, after
   ``fence_after`` seconds (plus ``fence_delay`` on the node that is not
   preferred, so the preferred node wins a fence race when the link is
   cut): runs the fence command for each unreachable member, and continues
   alone (as above) only once every fence command confirmed (exit status 0)
   that its member is off. A fence that fails is retried; nothing continues
   meanwhile.

4. Healing. When this member has been outside any group for ``heal_after``
   seconds, it asks every other member (over the network, as the recovery
   account) for its own state and its executed GTID set:
   - some member runs a group: this member joins it;
   - every member answers and none runs a group: the member whose executed
     GTID set contains every other member's bootstraps a new group (the
     preferred node first when several hold the same set; never the
     witness while a pair node holds the same set), and the others join it
     on their next round. Diverged sets (none contains all the others)
     bootstrap nothing: an operator must choose (recover.yml);
   - a member does not answer: nothing (it may run a group this member
     cannot see; two groups would split the data).

Every decision goes to the journal (stdout, under the unit's name).
"""

import json
import os
import signal
import ssl
import subprocess
import sys
import threading
import time

try:
    import pymysql
except ImportError:  # the unit tests import the decisions without a driver
    pymysql = None

STATE_QUERY = (
    "SELECT MEMBER_ID, MEMBER_HOST, MEMBER_PORT, MEMBER_STATE, MEMBER_ROLE, "
    "MEMBER_ID = @@server_uuid FROM performance_schema.replication_group_members"
)
SELF_QUERY = (
    "SELECT MEMBER_STATE FROM performance_schema.replication_group_members "
    "WHERE MEMBER_ID = @@server_uuid"
)
# A member in the middle of START or STOP GROUP_REPLICATION (its own guard
# bootstrapping, an operator) counts as running a group: nobody else may
# bootstrap meanwhile.
BUSY_QUERY = (
    "SELECT COUNT(*) FROM performance_schema.threads WHERE PROCESSLIST_INFO "
    "REGEXP '^[[:space:]]*(START|STOP)[[:space:]]+GROUP_REPLICATION'"
)
IN_GROUP = ("ONLINE", "RECOVERING")
# Each time a member continues alone it records here (a table of the new
# group, so every member that joins it gets the row) the GTID numbers it
# filled with empty transactions (padding()). A member that does not have
# the row yet and holds a transaction with one of those numbers holds one
# the group never had.
INCARNATIONS = "hapair_guard.incarnations"
INCARNATIONS_DDL = (
    "CREATE DATABASE IF NOT EXISTS hapair_guard",
    "CREATE TABLE IF NOT EXISTS %s (id CHAR(36) NOT NULL PRIMARY KEY, member VARCHAR(255) NOT NULL, "
    "padded TEXT NOT NULL, started TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3))" % INCARNATIONS,
)
# Numbers padded after each interval, beyond max_connections (each client
# session has at most one transaction in flight when the peer is lost).
PAD_SLACK = 64


def log(message):
    print(message, flush=True)


# --- decisions (pure: tested without MySQL) ----------------------------------

def read_view(rows):
    """This member's view from replication_group_members rows.

    Returns a dict: state (of this member; OFFLINE without a row), members
    (every row as a dict), quorum (bool: this member ONLINE
    and a majority of the view reachable), vips (bool: quorum, and the
    group's primary is not UNREACHABLE from here)."""
    members = [
        {"id": r[0], "host": r[1], "port": int(r[2] or 0), "state": r[3] or "OFFLINE",
         "role": r[4] or "", "self": bool(r[5])}
        for r in rows
    ]
    me = next((m for m in members if m["self"]), None)
    state = me["state"] if me else "OFFLINE"
    # A member joining (RECOVERING) is reachable and votes: only UNREACHABLE
    # members take the majority away.
    reachable = sum(1 for m in members if m["state"] != "UNREACHABLE")
    quorum = state == "ONLINE" and 2 * reachable > len(members)
    # The VIPs stay on the side of the group's primary. With a witness, a
    # cut link between the pair's nodes leaves each of them a majority
    # (itself and the witness) until the group expels one (measured: VIPs
    # on both nodes for 18 s); the node whose primary is UNREACHABLE cannot
    # write and drops its VIPs at once.
    primary_cut = any(m["role"] == "PRIMARY" and m["state"] == "UNREACHABLE" for m in members)
    return {"state": state, "members": members, "quorum": quorum, "vips": quorum and not primary_cut}


def lost_majority(view):
    """The members that cost this ONLINE member its majority, when every
    member that is not ONLINE is UNREACHABLE (a view in which a member is
    joining or leaving is not a lost majority), else None."""
    if view["state"] != "ONLINE" or view["quorum"]:
        return None
    others = [m for m in view["members"] if m["state"] != "ONLINE"]
    if not others or any(m["state"] != "UNREACHABLE" for m in others):
        return None
    return others


def host_prefix(host):
    """The route destination of one address."""
    return host + ("/128" if ":" in host else "/32")


def gtid_subset(a, b):
    """Whether GTID set a (as gtid_executed prints it) is contained in b."""
    return _GtidSet(a) <= _GtidSet(b)


class _GtidSet:
    """A GTID set (uuid[:tag]:a-b:c, ...) with containment (<=)."""

    def __init__(self, text):
        self.sources = {}
        for part in (text or "").replace("\n", "").split(","):
            part = part.strip()
            if not part:
                continue
            fields = part.split(":")
            key = fields[0].lower()
            for field in fields[1:]:
                if field and not field[0].isdigit():
                    key = fields[0].lower() + ":" + field.lower()  # a tag: the intervals after it
                    continue
                lo, _sep, hi = field.partition("-")
                self.sources.setdefault(key, []).append((int(lo), int(hi or lo)))
        for key, intervals in self.sources.items():
            self.sources[key] = _merge(intervals)

    def __le__(self, other):
        for key, intervals in self.sources.items():
            theirs = other.sources.get(key, [])
            for lo, hi in intervals:
                if not any(tlo <= lo and hi <= thi for tlo, thi in theirs):
                    return False
        return True


def _merge(intervals):
    merged = []
    for lo, hi in sorted(intervals):
        if merged and lo <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


def padding(group, executed, count):
    """The GTID numbers of the group's UUID (untagged) that a member about
    to continue alone fills with empty transactions: the next ``count``
    numbers after each interval of its executed set (up to the next
    interval). Group Replication assigns a new group's numbers from the
    first free ones; without this, a transaction that the lost member
    committed and this one never did (its origin here never learned the
    group's decision, so never acknowledged it) would share its number with
    a new one, and the lost member would rejoin without either noticing.
    Returns "uuid:a-b:c-d" or ""."""
    intervals = _GtidSet(executed).sources.get(group.lower(), [])
    ranges = []
    for i, (_lo, hi) in enumerate(intervals):
        limit = intervals[i + 1][0] - 1 if i + 1 < len(intervals) else hi + count
        last = min(hi + count, limit)
        if last > hi:
            ranges.append("%d-%d" % (hi + 1, last))
    return "%s:%s" % (group.lower(), ":".join(ranges)) if ranges else ""


def numbers(gtid_range_set):
    """Each GTID of "uuid:a-b:c-d", in order."""
    uuid, _sep, rest = gtid_range_set.partition(":")
    for part in rest.split(":"):
        lo, _sep, hi = part.partition("-")
        for n in range(int(lo), int(hi or lo) + 1):
            yield "%s:%d" % (uuid, n)


def heal_choice(me, answers, order):
    """What a member outside any group does.

    me: this member's name. answers: {name: {"state": str, "gtid": str}}
    for every member including this one, or None for a member that did not
    answer. order: member names, preferred first (the tie-break order).
    Returns ("join", None), ("bootstrap", None), ("wait", reason)."""
    silent = sorted(name for name, a in answers.items() if a is None)
    if silent:
        return "wait", "no answer from %s" % ", ".join(silent)
    running = sorted(name for name, a in answers.items() if a["state"] in IN_GROUP and name != me)
    if running:
        return "join", None
    busy = sorted(name for name, a in answers.items() if a.get("busy") and name != me)
    if busy:
        return "wait", "%s is starting or stopping Group Replication" % ", ".join(busy)
    holders = [
        name for name in order
        if all(gtid_subset(a["gtid"], answers[name]["gtid"]) for a in answers.values())
    ]
    if not holders:
        return "wait", "diverged GTID sets (none holds every other): %s" % "; ".join(
            "%s=%s" % (n, answers[n]["gtid"]) for n in order)
    if holders[0] == me:
        return "bootstrap", None
    return "wait", "%s holds the most transactions and bootstraps" % holders[0]


# --- the daemon ----------------------------------------------------------------

class Guard:
    """The daemon: one monitoring connection kept open (a blocked group fills
    max_connections with stuck client writes; a guard that reconnects every
    round would be locked out), and one admin action at a time on a thread
    of its own (forcing, joining and bootstrapping block for seconds while
    the quorum file must keep up)."""

    def __init__(self, config):
        self.c = config
        self.me = config["self"]
        config["members"] = [
            {"name": name, "address": address, "port": config["port"]}
            for name, address in zip(config["members"], config["addresses"])
        ]
        self.peers = [m for m in config["members"] if m["name"] != self.me]
        self.conn = None
        self.worker = None
        self.episode = None
        self.out_since = None
        self.silent_since = None
        self.quorum_written = None
        self.last_note = None
        self.fence_next = 0.0

    # MySQL access
    def local(self, read_timeout):
        return pymysql.connect(unix_socket=self.c["socket"], user="root",
                               connect_timeout=2, read_timeout=read_timeout,
                               write_timeout=read_timeout, autocommit=True)

    def peer_answer(self, peer):
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE  # the members' own self-signed certificates
        try:
            conn = pymysql.connect(host=peer["address"], port=peer["port"],
                                   user=self.c["peer_user"], password=self.c["peer_password"],
                                   ssl=ctx, connect_timeout=2, read_timeout=3, autocommit=True)
        except Exception as exc:  # pylint: disable=broad-except
            return {"error": str(exc)}
        try:
            with conn.cursor() as cur:
                cur.execute(SELF_QUERY)
                row = cur.fetchone()
                cur.execute("SELECT @@GLOBAL.gtid_executed")
                gtid = cur.fetchone()[0]
                cur.execute(BUSY_QUERY)
                busy = cur.fetchone()[0] > 0
                incarnations = self.incarnations(cur)
            return {"state": row[0] if row else "OFFLINE", "gtid": gtid, "busy": busy,
                    "incarnations": incarnations}
        except Exception as exc:  # pylint: disable=broad-except
            return {"error": str(exc)}
        finally:
            conn.close()

    @staticmethod
    def incarnations(cur):
        """{id: padded GTIDs} of the groups a member continued alone with
        (INCARNATIONS); {} before the first."""
        try:
            cur.execute("SELECT id, padded FROM %s" % INCARNATIONS)
        except pymysql.err.MySQLError as exc:
            if exc.args and exc.args[0] in (1049, 1146):  # no such database or table yet
                return {}
            raise
        return {row[0]: row[1] for row in cur.fetchall()}

    def note(self, message):
        """Logs a message once while it stays the same."""
        if message != self.last_note:
            log(message)
            self.last_note = message

    def write_quorum(self, ok):
        value = "0" if ok else "1"
        if value == self.quorum_written:
            return
        path = self.c["quorum_file"]
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="ascii") as f:
            f.write(value + "\n")
        os.rename(tmp, path)
        if self.quorum_written is not None or not ok:
            log("quorum %s: %s" % ("held" if ok else "lost",
                                   "VIPs allowed" if ok else "VIPs dropped (keepalived FAULT)"))
        self.quorum_written = value

    def read(self):
        """This member's view, or None when mysqld does not answer."""
        try:
            if self.conn is None:
                self.conn = self.local(read_timeout=2)
            with self.conn.cursor() as cur:
                cur.execute(STATE_QUERY)
                return read_view(cur.fetchall())
        except Exception as exc:  # pylint: disable=broad-except
            self.note("mysqld does not answer on its socket: %s" % exc)
            if self.conn is not None:
                try:
                    self.conn.close()
                except Exception:  # pylint: disable=broad-except
                    pass
            self.conn = None
            return None

    def tick(self, now):
        view = self.read()
        if view is None:
            # A round that could not read the member (a busy server, a
            # reconnect) keeps the last quorum for quorum_grace seconds; a
            # mysqld that stays silent longer is down, and loses it.
            self.silent_since = self.silent_since or now
            if now - self.silent_since >= self.c["quorum_grace"]:
                self.write_quorum(False)
            if self.episode is None or not self.episode.get("restarted"):
                self.episode = None  # mysqld restarted by the guard keeps its episode
            self.out_since = None
            return
        self.silent_since = None
        if (view["quorum"] and self.episode is not None and self.episode.get("cut")
                and {m["host"] for m in view["members"]} & set(self.episode["cut"])):
            # The lost members are cut off from here: a view that shows them
            # reachable again is stale (measured: Group Replication said so
            # for 5 s after a link cut), not a healed link. A view without
            # them (an operator forced the membership: recover.yml) is real.
            view = dict(view, quorum=False, vips=False)
        self.write_quorum(view["vips"])
        self.act(view, now)

    def act(self, view, now):
        """One round's decision. An episode starts when this member, ONLINE,
        loses its majority to UNREACHABLE members; it lasts while the member
        stays blocked or outside the group (it leaves after the
        unreachable-majority timeout), and ends once it is back in a group
        view holding a majority."""
        lost = lost_majority(view)
        if view["quorum"]:
            if self.episode is not None:
                log("episode over: in a group holding a majority")
                self.reconnect(self.episode)
            self.episode = None
        elif lost is not None and self.episode is None:
            self.episode = {"since": now, "lost": lost, "entitled": False}
            log("majority lost: %s UNREACHABLE" % ", ".join(m["host"] for m in lost))
            if self.c["topology"] in ("tiebreaker", "fencing"):
                self.cut_off(self.episode)
        if (self.episode is not None and self.episode.get("cut") and not self.episode["entitled"]
                and view["state"] not in IN_GROUP):
            self.reconnect(self.episode)  # left the blocked group: may join the peer's group later
        if view["state"] in IN_GROUP:
            self.out_since = None
        elif self.out_since is None:
            self.out_since = now
        if self.worker is not None and self.worker.is_alive():
            return  # one action at a time

        episode, topology = self.episode, self.c["topology"]
        if episode is not None and not episode["entitled"]:
            waited = now - episode["since"]
            if topology == "tiebreaker" and self.c["preferred"] and waited >= self.c["tiebreak_after"]:
                episode["entitled"] = True
                log("tie-breaker: this preferred node continues alone once it has left the old group")
            elif (topology == "tiebreaker" and waited >= self.c["tiebreak_after"]
                  and view["state"] == "ONLINE" and not episode.get("restarted")):
                # The other node steps out of the old group at once too: left
                # to itself it stays in it (blocked, then leaving for 30 s),
                # and when the link returns meanwhile, its stale group talks
                # to the preferred node's new one under the same group name
                # (measured: the new group's applier failed, "Unable to
                # update certification result", and it left). Restarted, it
                # rejoins the new group by the healing rule.
                log("tie-breaker: this node is not preferred; it leaves the blocked group at once")
                self.start(self.restart_server, episode)
                return
            elif topology == "fencing":
                delay = self.c["fence_after"] + (0 if self.c["preferred"] else self.c["fence_delay"])
                if waited >= delay and now >= self.fence_next:
                    self.fence_next = now + self.c["fence_retry"]
                    self.start(self.fence, episode)
                    return
        if episode is not None and episode["entitled"] and now >= episode.get("retry_at", 0.0):
            episode["retry_at"] = now + self.c["fence_retry"]
            if view["state"] == "ONLINE" and not episode.get("restarted"):
                self.start(self.restart_server, episode)
            elif view["state"] not in IN_GROUP:
                self.start(self.bootstrap_alone, episode)
        elif ((episode is None or not episode["entitled"]) and self.out_since is not None
              and now - self.out_since >= self.c["heal_after"]):
            self.out_since = now  # next heal round after heal_after again
            self.start(self.heal)

    def start(self, action, *args):
        self.worker = threading.Thread(target=self.run, args=(action,) + args, daemon=True)
        self.worker.start()

    def run(self, action, *args):
        try:
            conn = self.local(read_timeout=self.c.get("admin_timeout", 120))
        except Exception as exc:  # pylint: disable=broad-except
            log("%s: no admin connection: %s" % (action.__name__, exc))
            return
        try:
            action(conn, *args)
        except Exception as exc:  # pylint: disable=broad-except
            log("%s failed: %s" % (action.__name__, exc))
        finally:
            conn.close()

    def fence(self, conn, episode):  # pylint: disable=unused-argument
        if self.fence_all(episode["lost"]):
            episode["entitled"] = True
            log("fencing: every lost member is off; this node continues alone once it has left the old group")

    def cut_off(self, episode):
        """Makes the lost members' addresses unreachable from here (a route
        that fails connects at once) and destroys the sockets to them
        (ss -K), from the moment the majority is lost until this member has
        left the blocked group. Group Replication's connections to a host
        that vanished (power lost) otherwise hang, and its leaving the group
        waits 30 s for them (measured: "Timeout while waiting for the group
        communication engine to exit"), as does forcing a membership."""
        episode["cut"] = sorted({m["host"] for m in episode["lost"]})
        for host in episode["cut"]:
            self.command(["ip", "route", "replace", "unreachable", host_prefix(host)])
            self.command(["ss", "-K", "dst", host])

    def reconnect(self, episode):
        for host in episode.pop("cut", []):
            self.command(["ip", "route", "del", "unreachable", host_prefix(host)])

    @staticmethod
    def command(argv):
        try:
            done = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=5)
        except (OSError, subprocess.TimeoutExpired) as exc:
            log("%s: %s" % (" ".join(argv), exc))
            return
        if done.returncode != 0:
            log("%s: exit %d %s" % (" ".join(argv), done.returncode, done.stderr.strip()[-200:]))

    def restart_server(self, conn, episode):
        """Leaves the blocked group at once by restarting mysqld: Group
        Replication itself cannot be made to let go of a member whose host
        vanished in bounded time (measured here: forcing the membership
        took 3.6 s to 39 s and often only ended when the group gave up;
        leaving the group waits 30 s for its connections to the lost host).
        mysqld is killed and systemd starts it again (durable settings: no
        committed transaction is lost). Outside the group, with the lost
        members still cut off, a member entitled to continue (the preferred
        node of a tie-breaker pair, a fencing survivor) bootstraps a new
        group from itself; the other node of a tie-breaker pair waits for
        the healing rule."""
        episode["restarted"] = True
        log("leaving the blocked group at once: restarting mysqld")
        # Not back into a join attempt at start (it retries a cut-off peer
        # for a minute): start_group resets this once a group runs again.
        with conn.cursor() as cur:
            cur.execute("SET PERSIST_ONLY group_replication_start_on_boot = OFF")
        self.command(["systemctl", "kill", "--signal=KILL", self.c["service"]])

    def bootstrap_alone(self, conn, episode):
        """Starts a new group from this member alone: the old group is gone
        here (the member left it after the unreachable-majority timeout), and
        the episode's rule (tie-breaker, or a confirmed fence) lets it
        continue without the lost members, which join it when they return.
        A lost member that answers again by now is no longer lost: then the
        healing rule decides, the same on both sides (join a running group;
        wait while one is starting; else the member holding every other's
        transactions bootstraps), so the two never both bootstrap."""
        try:
            answers = self.gather(conn)
            if answers[self.me]["state"] in IN_GROUP:
                return
            back = {name: a for name, a in answers.items() if a is not None}
            if len(back) == 1:
                padded = self.pad(conn)
                self.start_group(conn, "bootstrap", "continuing alone without %s" % ", ".join(
                    m["host"] for m in episode["lost"]))
                self.record_incarnation(conn, padded)
                return
            self.settle(conn, back, "%s answers again" % ", ".join(sorted(set(back) - {self.me})))
        finally:
            self.reconnect(episode)  # the lost members may join the new group (no-op once done)

    def pad(self, conn):
        """Fills the numbers padding() names with empty transactions, before
        the new group starts (so no new transaction can take one). Their
        durability does not matter (the next durable commit flushes them):
        the binary log and redo log are not synced for each."""
        with conn.cursor() as cur:
            cur.execute("SELECT @@GLOBAL.group_replication_group_name, @@GLOBAL.gtid_executed, "
                        "@@GLOBAL.max_connections, @@GLOBAL.sync_binlog, @@GLOBAL.innodb_flush_log_at_trx_commit")
            group, executed, max_connections, sync_binlog, flush_log = cur.fetchone()
            padded = padding(group, executed, int(max_connections) + PAD_SLACK)
            if not padded:
                return ""
            started = time.monotonic()
            cur.execute("SET GLOBAL sync_binlog = 0")
            cur.execute("SET GLOBAL innodb_flush_log_at_trx_commit = 2")
            try:
                for gtid in numbers(padded):
                    cur.execute("SET gtid_next = %s", (gtid,))
                    cur.execute("BEGIN")
                    cur.execute("COMMIT")
            finally:
                cur.execute("SET gtid_next = 'AUTOMATIC'")
                cur.execute("SET GLOBAL sync_binlog = %s", (int(sync_binlog),))
                cur.execute("SET GLOBAL innodb_flush_log_at_trx_commit = %s", (int(flush_log),))
        log("padded %s with empty transactions in %.2f s" % (padded, time.monotonic() - started))
        return padded

    def record_incarnation(self, conn, padded):
        """Records the padding in the new group (INCARNATIONS), while the
        lost members are still cut off: none can look before it is there."""
        if not padded:
            return
        for attempt in range(20):
            try:
                with conn.cursor() as cur:
                    for statement in INCARNATIONS_DDL:
                        cur.execute(statement)
                    cur.execute("INSERT INTO %s (id, member, padded) VALUES (UUID(), %%s, %%s)" % INCARNATIONS,
                                (self.me, padded))
                return
            except pymysql.err.MySQLError as exc:
                if attempt == 19:
                    log("could not record the padding %s: %s" % (padded, exc))
                    return
                time.sleep(0.25)  # not writable yet (primary election)

    def errant(self, conn, donor):
        """This member's transactions with numbers that a group it never
        joined padded: transactions that group never had. "" when none."""
        with conn.cursor() as cur:
            known = self.incarnations(cur)
            errant = []
            for id_, padded in sorted(donor.get("incarnations", {}).items()):
                if id_ in known:
                    continue
                cur.execute("SELECT GTID_SUBTRACT(@@GLOBAL.gtid_executed, "
                            "GTID_SUBTRACT(@@GLOBAL.gtid_executed, %s))", (padded,))
                found = cur.fetchone()[0]
                if found:
                    errant.append(found.replace("\n", ""))
        return ",".join(errant)

    def clone_from(self, conn, donor, errant):
        """Replaces this member's data with a copy of the donor's (the clone
        plugin; mysqld restarts by itself after it, and joins later by the
        healing rule). Only the transactions the group never had are lost:
        their origin never committed them, so no client was told they were."""
        peer = next(p for p in self.peers if p["name"] == donor)
        log("this member holds transactions the running group never had (%s): never acknowledged "
            "(their origin did not commit them); replacing its data with a clone of %s" % (errant, donor))
        started = time.monotonic()
        with conn.cursor() as cur:
            cur.execute("SET GLOBAL clone_valid_donor_list = %s", ("%s:%d" % (peer["address"], peer["port"]),))
            # CLONE refuses to run under super_read_only (measured: error
            # 1290); the restart after it brings the configuration's back.
            cur.execute("SET GLOBAL super_read_only = OFF")
            try:
                cur.execute("CLONE INSTANCE FROM %s@%s:" + str(int(peer["port"])) + " IDENTIFIED BY %s REQUIRE SSL",
                            (self.c["peer_user"], peer["address"], self.c["peer_password"]))
            except pymysql.err.OperationalError as exc:
                if exc.args[0] not in (2013, 2006):  # the server restarts once the clone is in
                    raise
        log("clone of %s done in %.2f s; mysqld restarts" % (donor, time.monotonic() - started))

    def fence_all(self, lost):
        names = {(p["address"], p["port"]): p["name"] for p in self.peers}
        for member in lost:
            name = names.get((member["host"], member["port"]))
            if name is None:
                log("cannot fence %s:%s: not a member of the inventory" % (member["host"], member["port"]))
                return False
            argv = [arg.replace("{node}", name).replace("{address}", member["host"])
                    for arg in self.c["fence_command"]]
            log("fencing %s with %s" % (name, argv[0] if argv else "(no fence command)"))
            started = time.monotonic()
            try:
                done = subprocess.run(argv, capture_output=True, text=True, check=False,
                                      timeout=self.c["fence_timeout"])
            except (OSError, IndexError, subprocess.TimeoutExpired) as exc:
                log("fence of %s failed: %s" % (name, exc))
                return False
            if done.returncode != 0:
                log("fence of %s failed (exit %d): %s" % (name, done.returncode,
                                                          (done.stderr or done.stdout).strip()[-300:]))
                return False
            log("%s fenced in %.2f s" % (name, time.monotonic() - started))
        return True

    def gather(self, conn):
        """Every member's own state, executed GTID set and whether it is
        starting or stopping its group; None for a member that does not
        answer."""
        with conn.cursor() as cur:
            cur.execute(SELF_QUERY)
            row = cur.fetchone()
            cur.execute("SELECT @@GLOBAL.gtid_executed")
            gtid = cur.fetchone()[0]
        answers = {self.me: {"state": row[0] if row else "OFFLINE", "gtid": gtid, "busy": False}}
        for peer in self.peers:
            answer = self.peer_answer(peer)
            answers[peer["name"]] = None if "error" in answer else answer
            if "error" in answer:
                self.note("peer %s does not answer: %s" % (peer["name"], answer["error"]))
        return answers

    def heal(self, conn):
        answers = self.gather(conn)
        if answers[self.me]["state"] not in IN_GROUP:
            self.settle(conn, answers, "outside any group")

    def settle(self, conn, answers, why):
        order = [m["name"] for m in self.c["members"] if m["name"] in answers]
        action, reason = heal_choice(self.me, answers, order)
        if action == "wait":
            self.note("%s, waiting: %s" % (why, reason))
            return
        if action == "join":
            donor = next((name for name in order if name != self.me and answers[name]["state"] == "ONLINE"), None)
            if donor is None:
                self.note("%s, waiting: the group's members are still recovering" % why)
                return
            errant = self.errant(conn, answers[donor])
            if errant:
                self.clone_from(conn, donor, errant)
                return
        self.start_group(conn, action, "%s; executed %s" % (why, answers[self.me]["gtid"]))

    @staticmethod
    def start_group(conn, action, why):
        """Joins the running group, or bootstraps a new one from this member."""
        statements = ["STOP GROUP_REPLICATION", "SET GLOBAL group_replication_force_members = ''"] + (
            ["START GROUP_REPLICATION"] if action == "join" else
            ["SET GLOBAL group_replication_bootstrap_group = ON", "START GROUP_REPLICATION"])
        log("%s (%s)" % ("joining the running group" if action == "join"
                         else "bootstrapping a new group from this member", why))
        started = time.monotonic()
        try:
            with conn.cursor() as cur:
                for statement in statements:
                    cur.execute(statement)
            log("%s done in %.2f s" % (action, time.monotonic() - started))
        finally:
            with conn.cursor() as cur:
                if action == "bootstrap":
                    cur.execute("SET GLOBAL group_replication_bootstrap_group = OFF")
                # The configuration file's start_on_boot again (restart_server).
                cur.execute("RESET PERSIST IF EXISTS group_replication_start_on_boot")


def main():
    with open(sys.argv[1] if len(sys.argv) > 1 else "/etc/hapair/gr-guard.json", encoding="utf-8") as f:
        config = json.load(f)
    guard = Guard(config)
    running = [True]

    def stop(*_):
        running[0] = False

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log("started: topology %s, %s node, members %s" % (
        config["topology"], "preferred" if config["preferred"] else "other",
        ", ".join(m["name"] for m in config["members"])))
    while running[0]:
        started = time.monotonic()
        try:
            guard.tick(started)
        except Exception as exc:  # pylint: disable=broad-except
            guard.note("round failed: %s" % exc)
        time.sleep(max(0.05, config["interval"] - (time.monotonic() - started)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
