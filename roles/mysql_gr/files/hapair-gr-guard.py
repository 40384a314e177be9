#!/usr/bin/python3
"""hapair-gr-guard: keeps a Group Replication member's pair honest.

Runs on every member of a pair's group (the pair's nodes and the witness),
as root, next to mysqld. Every ``interval`` seconds it reads this member's
view of the group over the local socket and:

1. Quorum. Writes ``0`` to the quorum file when this member is ONLINE in a
   view whose ONLINE members are a majority of it, ``1`` otherwise (mysqld
   down, member outside the group, or a minority that Group Replication
   blocks). keepalived tracks that file (``track_file``, weight 0): a node
   without quorum goes to FAULT and drops the web and database VIPs, so a
   cut-off node stops taking traffic and only the majority side serves.

2. Tie-breaker (topology ``tiebreaker``, on the preferred node only). When
   this member stays ONLINE but has lost its majority because every other
   member is UNREACHABLE, for ``tiebreak_after`` seconds, it forces the
   group to itself (``group_replication_force_members``) while Group
   Replication still runs: no STOP/START, which would block for the
   unreachable-majority timeout. The other node never does this, so the two
   can never both continue alone.

3. Fencing (topology ``fencing``). Same trigger on either node, after
   ``fence_after`` seconds (plus ``fence_delay`` on the node that is not
   preferred, so the preferred node wins a fence race when the link is
   cut): runs the fence command for each unreachable member, and forces the
   group only once every fence command confirmed (exit status 0) that its
   member is off. A fence that fails forces nothing and is retried.

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
IN_GROUP = ("ONLINE", "RECOVERING")


def log(message):
    print(message, flush=True)


# --- decisions (pure: tested without MySQL) ----------------------------------

def read_view(rows):
    """This member's view from replication_group_members rows.

    Returns a dict: state (of this member; OFFLINE without a row), members
    (every row as a dict), online (count), quorum (bool)."""
    members = [
        {"id": r[0], "host": r[1], "port": int(r[2] or 0), "state": r[3] or "OFFLINE",
         "role": r[4] or "", "self": bool(r[5])}
        for r in rows
    ]
    me = next((m for m in members if m["self"]), None)
    state = me["state"] if me else "OFFLINE"
    online = sum(1 for m in members if m["state"] == "ONLINE")
    quorum = state == "ONLINE" and 2 * online > len(members)
    return {"state": state, "members": members, "online": online, "quorum": quorum}


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


def force_list(view, port_of_self):
    """group_replication_force_members for the ONLINE members of the view."""
    return ",".join(
        "%s:%d" % (m["host"], m["port"] or port_of_self)
        for m in view["members"] if m["state"] == "ONLINE"
    )


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
            source = fields[0].lower()
            tag = ""
            intervals = []
            for field in fields[1:]:
                if field and not field[0].isdigit():
                    tag = field.lower()
                    continue
                lo, _, hi = field.partition("-")
                intervals.append((int(lo), int(hi or lo)))
            key = source + (":" + tag if tag else "")
            self.sources.setdefault(key, []).extend(intervals)
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
        self.lost_since = None
        self.out_since = None
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
            return {"state": row[0] if row else "OFFLINE", "gtid": gtid}
        except Exception as exc:  # pylint: disable=broad-except
            return {"error": str(exc)}
        finally:
            conn.close()

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
            self.write_quorum(False)
            self.lost_since = self.out_since = None
            return
        self.write_quorum(view["quorum"])
        self.act(view, now)

    def act(self, view, now):
        lost = lost_majority(view)
        if lost is None:
            self.lost_since = None
        elif self.lost_since is None:
            self.lost_since = now
            log("majority lost: %s UNREACHABLE" % ", ".join(m["host"] for m in lost))
        if view["state"] in IN_GROUP:
            self.out_since = None
        elif self.out_since is None:
            self.out_since = now
        if self.worker is not None and self.worker.is_alive():
            return  # one action at a time

        topology = self.c["topology"]
        if lost is not None and topology == "tiebreaker" and self.c["preferred"]:
            if now - self.lost_since >= self.c["tiebreak_after"]:
                self.start(self.force, force_list(view, self.c["port"]),
                           "tie-breaker: this is the preferred node")
        elif lost is not None and topology == "fencing":
            delay = self.c["fence_after"] + (0 if self.c["preferred"] else self.c["fence_delay"])
            if now - self.lost_since >= delay and now >= self.fence_next:
                self.fence_next = now + self.c["fence_retry"]
                self.start(self.fence_and_force, lost, force_list(view, self.c["port"]))
        elif self.out_since is not None and now - self.out_since >= self.c["heal_after"]:
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

    def force(self, conn, members, why):
        log("forcing the group to %s (%s)" % (members, why))
        started = time.monotonic()
        try:
            with conn.cursor() as cur:
                cur.execute("SET GLOBAL group_replication_force_members = %s", (members,))
                log("group forced to %s in %.2f s" % (members, time.monotonic() - started))
        finally:
            with conn.cursor() as cur:
                cur.execute("SET GLOBAL group_replication_force_members = ''")

    def fence_and_force(self, conn, lost, members):
        if self.fence_all(lost):
            self.force(conn, members, "fencing: every lost member is fenced")

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

    def heal(self, conn):
        with conn.cursor() as cur:
            cur.execute(SELF_QUERY)
            row = cur.fetchone()
            cur.execute("SELECT @@GLOBAL.gtid_executed")
            gtid = cur.fetchone()[0]
        answers = {self.me: {"state": row[0] if row else "OFFLINE", "gtid": gtid}}
        for peer in self.peers:
            answer = self.peer_answer(peer)
            answers[peer["name"]] = None if "error" in answer else answer
            if "error" in answer:
                log("peer %s does not answer: %s" % (peer["name"], answer["error"]))
        if answers[self.me]["state"] in IN_GROUP:
            return
        action, reason = heal_choice(self.me, answers, [m["name"] for m in self.c["members"]])
        if action == "wait":
            self.note("outside any group, waiting: %s" % reason)
            return
        statements = ["STOP GROUP_REPLICATION", "SET GLOBAL group_replication_force_members = ''"] + (
            ["START GROUP_REPLICATION"] if action == "join" else
            ["SET GLOBAL group_replication_bootstrap_group = ON", "START GROUP_REPLICATION"])
        log("%s (executed %s)" % ("joining the running group" if action == "join"
                                  else "no member runs a group: bootstrapping from this member", gtid))
        started = time.monotonic()
        try:
            with conn.cursor() as cur:
                for statement in statements:
                    cur.execute(statement)
            log("%s done in %.2f s" % (action, time.monotonic() - started))
        finally:
            if action == "bootstrap":
                with conn.cursor() as cur:
                    cur.execute("SET GLOBAL group_replication_bootstrap_group = OFF")


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
