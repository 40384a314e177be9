#!/usr/bin/python3
"""hapair-backup: MySQL backups of a Group Replication member into Borg, and
point-in-time restores onto a scratch mysqld (role hapair.stack.backup).

  hapair-backup init        create the Borg repository when missing
  hapair-backup database    a clone of the data directory (from a SECONDARY),
                            then the binary logs, prune, optional check
  hapair-backup binlogs     archive the member's closed binary logs
  hapair-backup restore     extract, start a scratch mysqld, replay binlogs
                            up to a point in time; prints a JSON report
  hapair-backup scratch-stop  stop the scratch mysqld

Runs as root: MySQL is reached through its socket as root (auth_socket), so
no MySQL password is needed; Borg reads its passphrase with
BORG_PASSCOMMAND from a root-only file, never from the command line or the
environment of a unit.

Logic that decides (which member backs up, which archive and binlog files a
restore uses, the metrics text) lives in small functions over plain data,
covered by tests/unit/roles/backup/test_hapair_backup.py.
"""

import argparse
import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
import time

CONFIG = "/etc/hapair/backup.json"
STAMP = "%Y%m%dT%H%M%SZ"


class BackupError(Exception):
    """A failure with a message that says what to check."""


# --- pure logic ----------------------------------------------------------------

def decide(members, self_uuid, backup_hosts):
    """(run, reason): whether this member takes the database backup now.

    members: rows of performance_schema.replication_group_members as dicts
    (id, host, state, role). A SECONDARY that is ONLINE backs up. The
    PRIMARY backs up only when no other ONLINE SECONDARY among backup_hosts
    (the pair's nodes, which run this backup too) can: a degraded pair still
    gets its backup. A member that is not ONLINE never backs up (its data
    may be behind the group's)."""
    me = next((m for m in members if m["id"] == self_uuid), None)
    if me is None or me["state"] != "ONLINE":
        state = me["state"] if me else "not in a group"
        return False, f"this member is {state}, not ONLINE: no backup from it"
    if me["role"] == "SECONDARY":
        return True, "this member is an ONLINE SECONDARY"
    others = sorted(m["host"] for m in members
                    if m["id"] != self_uuid and m["state"] == "ONLINE" and m["role"] == "SECONDARY"
                    and m["host"] in backup_hosts)
    if others:
        return False, f"this member is the PRIMARY; the ONLINE SECONDARY {', '.join(others)} takes the backup"
    return True, "this member is the PRIMARY and no other pair member is an ONLINE SECONDARY"


def parse_tsv(text, columns):
    """Rows of `mysql -N -B` output as dicts (NULL -> None)."""
    rows = []
    for line in text.splitlines():
        if not line:
            continue
        values = [None if v == "NULL" else v for v in line.split("\t")]
        rows.append(dict(zip(columns, values)))
    return rows


def closed_binlogs(names):
    """The closed binary log files of SHOW BINARY LOGS (every one but the
    last, which the server still writes)."""
    return list(names[:-1])


def binlog_index(name):
    """binlog.000042 -> 42 (the order of a member's binary logs)."""
    match = re.search(r"\.(\d+)$", name)
    if not match:
        raise BackupError(f"{name} is not a binary log file name (name.NNNNNN)")
    return int(match.group(1))


def archive_name(prefix, kind, when):
    """{prefix}-{kind}-{UTC stamp}: db archives are stamped with the time the
    clone finished, so the clone's consistent point is never after it."""
    return f"{prefix}-{kind}-{when.astimezone(dt.timezone.utc).strftime(STAMP)}"


def archive_time(name):
    """The UTC time in an archive's name (archive_name), or None."""
    match = re.search(r"-(\d{8}T\d{6}Z)$", name)
    if not match:
        return None
    return dt.datetime.strptime(match.group(1), STAMP).replace(tzinfo=dt.timezone.utc)


def pick_archive(names, prefix, kind, until=None):
    """The newest {prefix}-{kind}-* archive stamped at or before `until`
    (any time when None), or None."""
    best = None
    for name in names:
        if not name.startswith(f"{prefix}-{kind}-"):
            continue
        when = archive_time(name)
        if when is None or (until is not None and when > until):
            continue
        if best is None or when > best[0]:
            best = (when, name)
    return best[1] if best else None


def parse_previous_gtids(text):
    """The Previous-GTIDs set of a binary log, from the start of
    `mysqlbinlog FILE` output ('' for an empty set)."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.rstrip().endswith("Previous-GTIDs"):
            parts = []
            for following in lines[i + 1:]:
                if not following.startswith("# ") or following.startswith("# at "):
                    break
                value = following[2:].strip()
                if value == "[empty]":
                    return ""
                parts.append(value.rstrip(","))
                if not value.endswith(","):
                    break
            return ",".join(parts)
    raise BackupError("no Previous-GTIDs event at the start of the binary log")


def first_needed(covered):
    """Index of the first binary log to replay: the last file whose
    Previous-GTIDs are all in the restored data (covered[i] is
    GTID_SUBSET(Previous-GTIDs of file i, gtid_executed)); every earlier file holds only
    transactions the clone has. None when even the first file starts after
    a gap: the binary logs since the backup are incomplete."""
    start = None
    for i, ok in enumerate(covered):
        if not ok:
            break
        start = i
    return start


def stop_point(lines, until_us):
    """Where a replay stops in one binary log: (position, last) where
    position is that of the first transaction (its GTID event) committed on
    the group's primary at or after until_us (original_committed_timestamp,
    microseconds since the epoch) or None when every transaction is before
    it, and last the newest original commit time (us) before it.

    The commit time, not the event header's (whole seconds, the statement's
    start): a write acknowledged before the point committed before it, and
    one committed after it is left out, to the microsecond."""
    at = None
    last = None
    for line in lines:
        if line.startswith("# at "):
            at = int(line[5:].strip())
            continue
        # Only a transaction's GTID event carries the commit times.
        match = re.search(r"original_committed_timestamp=(\d+)", line) if line.startswith("#") else None
        if not match:
            continue
        when = int(match.group(1))
        if when >= until_us:
            return at, last
        last = when if last is None else max(last, when)
    return None, last


def parse_until(text):
    """A point in time: ISO 8601; without an offset it is UTC."""
    when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    return when.astimezone(dt.timezone.utc)


def metrics_text(values):
    """A node-exporter textfile: hapair_backup_<name> <value> per item."""
    help_text = {
        "last_success_timestamp_seconds": "Unix time the last database backup of this node finished",
        "last_duration_seconds": "Seconds the last database backup of this node took",
        "last_run_timestamp_seconds": "Unix time the backup job last ran on this node (backed up or skipped)",
        "last_skipped": "1 when the last run took no backup (this member was not the one to back up)",
        "last_failed": "1 when the last run failed",
        "repository_size_bytes": "Bytes the Borg repository holds (deduplicated, compressed)",
        "binlog_last_success_timestamp_seconds": "Unix time the binary logs were last archived",
    }
    out = []
    for key in sorted(values):
        name = f"hapair_backup_{key}"
        out.append(f"# HELP {name} {help_text.get(key, key)}")
        out.append(f"# TYPE {name} gauge")
        value = values[key]
        out.append(f"{name} {int(value) if float(value).is_integer() else round(float(value), 3)}")
    return "\n".join(out) + "\n"


def parse_metrics(text):
    """The values of a metrics_text file (to keep the ones a run does not update)."""
    values = {}
    for line in text.splitlines():
        if line.startswith("hapair_backup_"):
            key, _sep, value = line.partition(" ")
            try:
                values[key.removeprefix("hapair_backup_")] = float(value)
            except ValueError:
                continue
    return values


def scratch_cnf(settings):
    """The scratch mysqld's option file: out of any group, its own datadir,
    socket and port, no binary log, writable, GTIDs on (so replayed
    transactions already in the clone are skipped)."""
    lines = ["[mysqld]"]
    for key, value in settings.items():
        lines.append(key if value is None else f"{key} = {value}")
    return "\n".join(lines) + "\n"


# --- the node --------------------------------------------------------------------

def log(message):
    print(f"hapair-backup: {message}", flush=True)


def run(args, env=None, cwd=None, capture=True, check=True, stdin=None):
    proc = subprocess.run(args, env=env, cwd=cwd, text=True, stdin=stdin, check=False,
                          stdout=subprocess.PIPE if capture else None,
                          stderr=subprocess.PIPE if capture else None)
    if check and proc.returncode != 0:
        detail = (proc.stderr or "").strip().splitlines()[-3:] if capture else []
        raise BackupError(f"{args[0]} {args[1] if len(args) > 1 else ''} failed ({proc.returncode}): {' '.join(detail)}")
    return proc


class Node:
    def __init__(self, config):
        self.config = config
        self.env = dict(os.environ)
        self.env.update({
            "BORG_REPO": config["repository"],
            "BORG_PASSCOMMAND": f"cat {config['passphrase_file']}",
            "BORG_BASE_DIR": config["borg_base_dir"],
            "BORG_RELOCATED_REPO_ACCESS_IS_OK": "no",
            "TZ": "UTC",
        })
        if config.get("borg_rsh"):
            self.env["BORG_RSH"] = config["borg_rsh"]
        self.env.pop("BORG_PASSPHRASE", None)

    # MySQL through a socket as root
    def sql(self, query, socket=None, columns=None):
        out = run(["mysql", "--protocol=socket", "-S", socket or self.config["socket"], "-u", "root",
                   "-N", "-B", "-e", query]).stdout
        return parse_tsv(out, columns) if columns else out

    def borg(self, *args, cwd=None):
        # The database and binary log jobs may meet on one repository.
        return run(["borg", "--lock-wait", str(self.config.get("lock_wait", 600)), *args], env=self.env, cwd=cwd)

    def archives(self):
        listing = json.loads(self.borg("list", "--json").stdout)
        return [a["name"] for a in listing.get("archives", [])]

    def repository_size(self):
        info = json.loads(self.borg("info", "--json").stdout)
        stats = info.get("cache", {}).get("stats", {})
        return stats.get("unique_csize", stats.get("unique_size", 0))

    def write_metrics(self, values):
        path = self.config["metrics_file"]
        os.makedirs(os.path.dirname(path), exist_ok=True)
        old = {}
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                old = parse_metrics(f.read())
        old.update(values)
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(metrics_text(old))
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)

    # commands
    def init(self):
        probe = run(["borg", "info", "--json"], env=self.env, check=False)
        if probe.returncode == 0:
            print("exists")
            return
        if "does not exist" not in probe.stderr and "is not a valid repository" not in probe.stderr:
            raise BackupError(f"cannot read the repository: {probe.stderr.strip().splitlines()[-1:]}")
        self.borg("init", "--encryption", self.config["encryption"])
        print("created")

    def member_state(self):
        uuid = self.sql("SELECT @@server_uuid").strip()
        members = self.sql("SELECT MEMBER_ID, MEMBER_HOST, MEMBER_STATE, MEMBER_ROLE "
                           "FROM performance_schema.replication_group_members",
                           columns=["id", "host", "state", "role"])
        return uuid, members

    def binlogs(self):
        started = time.time()
        self.sql("FLUSH BINARY LOGS")
        names = [r["name"] for r in self.sql("SHOW BINARY LOGS", columns=["name", "size", "encrypted"])]
        files = closed_binlogs(names)
        base = os.path.dirname(self.sql("SELECT @@log_bin_basename").strip())
        if not files:
            log("no closed binary log to archive")
            return
        name = archive_name(self.config["prefix"], "binlog", dt.datetime.now(dt.timezone.utc))
        self.borg("create", "--compression", self.config["compression"], f"::{name}", *files, cwd=base)
        log(f"archived {len(files)} binary log(s) ({files[0]} .. {files[-1]}) as {name} "
            f"in {time.time() - started:.1f} s")
        self.write_metrics({"binlog_last_success_timestamp_seconds": time.time()})

    def database(self):
        started = time.time()
        uuid, members = self.member_state()
        go, reason = decide(members, uuid, self.config["backup_hosts"])
        if not go:
            log(f"skipped: {reason}")
            self.write_metrics({"last_run_timestamp_seconds": time.time(), "last_skipped": 1, "last_failed": 0})
            self.binlogs()
            return
        log(f"backing up: {reason}")
        staging = self.config["staging_dir"]
        target = os.path.join(staging, "clone")
        shutil.rmtree(target, ignore_errors=True)
        os.makedirs(staging, exist_ok=True)
        shutil.chown(staging, "mysql", "mysql")
        os.chmod(staging, 0o750)
        self.sql(f"CLONE LOCAL DATA DIRECTORY = '{target}'")
        done = dt.datetime.now(dt.timezone.utc)
        status = self.sql("SELECT STATE, GTID_EXECUTED, BINLOG_FILE, BINLOG_POSITION, BEGIN_TIME, END_TIME "
                          "FROM performance_schema.clone_status",
                          columns=["state", "gtid_executed", "binlog_file", "binlog_position", "begin", "end"])
        if not status or status[-1]["state"] != "Completed":
            raise BackupError(f"the clone did not complete: {status}")
        meta = dict(status[-1])
        meta["gtid_executed"] = (meta["gtid_executed"] or "").replace("\\n", "")
        meta.update({"host": self.config["prefix"], "server_uuid": uuid, "finished": done.isoformat()})
        with open(os.path.join(staging, "backup.json"), "w", encoding="utf-8") as f:
            json.dump(meta, f, indent=1)
        name = archive_name(self.config["prefix"], "db", done)
        clone_seconds = time.time() - started
        self.borg("create", "--compression", self.config["compression"], f"::{name}", "clone", "backup.json",
                  cwd=staging)
        shutil.rmtree(target, ignore_errors=True)
        os.remove(os.path.join(staging, "backup.json"))
        log(f"archived the clone as {name} (clone {clone_seconds:.1f} s, total {time.time() - started:.1f} s)")
        self.binlogs()
        self.prune()
        if self.config.get("check"):
            self.borg("check", "--repository-only")
            log("borg check passed")
        duration = time.time() - started
        self.write_metrics({"last_success_timestamp_seconds": time.time(), "last_duration_seconds": duration,
                            "last_run_timestamp_seconds": time.time(), "last_skipped": 0, "last_failed": 0,
                            "repository_size_bytes": self.repository_size()})
        log(f"done in {duration:.1f} s")

    def prune(self):
        prefix, keep = self.config["prefix"], self.config["keep"]
        self.borg("prune", "--glob-archives", f"{prefix}-db-*", "--keep-daily", str(keep["daily"]),
                  "--keep-weekly", str(keep["weekly"]), "--keep-monthly", str(keep["monthly"]))
        self.borg("prune", "--glob-archives", f"{prefix}-binlog-*", "--keep-within", f"{keep['binlog_days']}d")
        self.borg("compact")

    # restore onto the scratch mysqld
    def restore(self, until=None, gtids=None, archive=None, prefix=None, binlog_prefix=None):
        conf = self.config["scratch"]
        started = time.time()
        report = {"until": until.isoformat() if until else None, "include_gtids": gtids}
        names = self.archives()
        prefix = prefix or self.config["prefix"]
        archive = archive or pick_archive(names, prefix, "db", until)
        if not archive:
            raise BackupError(f"no database archive of {prefix} at or before {until} "
                              f"in the repository ({len(names)} archives)")
        report["archive"] = archive
        self.scratch_stop()
        root = conf["dir"]
        shutil.rmtree(root, ignore_errors=True)
        os.makedirs(root, mode=0o750)
        t0 = time.time()
        self.borg("extract", f"::{archive}", cwd=root)
        report["extract_seconds"] = round(time.time() - t0, 2)
        with open(os.path.join(root, "backup.json"), encoding="utf-8") as f:
            meta = json.load(f)
        # (performance_schema.clone_status leaves the GTID set and binary log
        # position empty for a local clone: the scratch server's gtid_executed,
        # read below from the cloned tables, is the backup's.)
        report["backup"] = {k: meta.get(k) for k in ("host", "server_uuid", "finished")}
        # the newest binary log archive: every closed file still on the member
        binlog_archive = pick_archive(names, binlog_prefix or prefix, "binlog")
        files = []
        if binlog_archive:
            t0 = time.time()
            os.makedirs(os.path.join(root, "binlogs"))
            self.borg("extract", f"::{binlog_archive}", cwd=os.path.join(root, "binlogs"))
            report["extract_seconds"] += round(time.time() - t0, 2)
            files = sorted(os.listdir(os.path.join(root, "binlogs")), key=binlog_index)
        report["binlog_archive"] = binlog_archive
        t0 = time.time()
        self.scratch_start(root)
        report["start_seconds"] = round(time.time() - t0, 2)
        sock = conf["socket"]
        report["gtid_executed_clone"] = self.sql("SELECT @@GLOBAL.gtid_executed", socket=sock).strip().replace("\\n", "")
        t0 = time.time()
        if files:
            paths = [os.path.join(root, "binlogs", f) for f in files]
            previous = [parse_previous_gtids(self.binlog_head(p)) for p in paths]
            covered = [self.sql(f"SELECT GTID_SUBSET('{p}', @@GLOBAL.gtid_executed)", socket=sock).strip() == "1"
                       for p in previous]
            start = first_needed(covered)
            if start is None:
                raise BackupError(f"the binary logs in {binlog_archive} start after the backup's GTID set "
                                  "(a gap): restore from an older backup, or set restore_binlog_from to a member "
                                  "whose binary logs reach back further")
            args = ["mysqlbinlog"]
            if gtids:
                args.append(f"--include-gtids={gtids}")
            todo = paths[start:]
            if until:
                until_us = int(until.timestamp() * 1_000_000)
                for i, path in enumerate(todo):
                    position, last = self.scan(path, until_us)
                    if last is not None:
                        report["last_commit_restored"] = dt.datetime.fromtimestamp(
                            last / 1e6, dt.timezone.utc).isoformat()
                    if position is not None:
                        todo = todo[:i + 1]
                        args.append(f"--stop-position={position}")
                        break
                else:
                    report["warning"] = ("the archived binary logs end before the point in time: "
                                         "restored up to the newest archived transaction")
            args += todo
            report["binlogs_replayed"] = [os.path.basename(p) for p in todo]
            dump = subprocess.Popen(args, stdout=subprocess.PIPE, env=self.env)
            try:
                run(["mysql", "--protocol=socket", "-S", sock, "-u", "root"], stdin=dump.stdout)
            finally:
                dump.stdout.close()
                if dump.wait() != 0:
                    raise BackupError(f"mysqlbinlog failed ({dump.returncode})")
        report["replay_seconds"] = round(time.time() - t0, 2)
        report["gtid_executed_restored"] = self.sql("SELECT @@GLOBAL.gtid_executed", socket=sock).strip().replace("\\n", "")
        report["rows"] = self.row_counts(sock)
        report["total_seconds"] = round(time.time() - started, 2)
        report["scratch_socket"] = sock
        report["scratch_port"] = conf["port"]
        with open(os.path.join(root, "report.json"), "w", encoding="utf-8") as f:
            json.dump(report, f, indent=1)
        return report

    def scan(self, path, until_us):
        proc = subprocess.Popen(["mysqlbinlog", path], stdout=subprocess.PIPE, text=True, env=self.env)
        try:
            return stop_point(proc.stdout, until_us)
        finally:
            proc.stdout.close()
            proc.kill()
            proc.wait()

    def binlog_head(self, path):
        proc = subprocess.Popen(["mysqlbinlog", "--stop-position=8192", path], stdout=subprocess.PIPE,
                                text=True, env=self.env)
        out, _err = proc.communicate()
        return out

    def row_counts(self, sock):
        tables = self.sql("SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA NOT IN "
                          "('mysql','sys','performance_schema','information_schema') AND TABLE_TYPE='BASE TABLE'",
                          socket=sock, columns=["schema", "table"])
        counts = {}
        for t in tables:
            n = self.sql(f"SELECT COUNT(*) FROM `{t['schema']}`.`{t['table']}`", socket=sock).strip()
            counts[f"{t['schema']}.{t['table']}"] = int(n)
        return counts

    def scratch_start(self, root):
        conf = self.config["scratch"]
        datadir = os.path.join(root, "clone")
        run(["chown", "-R", "mysql:mysql", root])
        settings = {
            "datadir": datadir, "socket": conf["socket"], "port": conf["port"], "bind_address": "127.0.0.1",
            "mysqlx": "OFF", "pid_file": os.path.join(root, "mysqld.pid"),
            "log_error": os.path.join(root, "error.log"), "server_id": conf["server_id"],
            "skip_log_bin": None, "gtid_mode": "ON", "enforce_gtid_consistency": "ON",
            "skip_replica_start": "ON", "read_only": "OFF", "super_read_only": "OFF",
            "persisted_globals_load": "OFF",
        }
        settings.update(conf.get("settings", {}))
        cnf = os.path.join(root, "my.cnf")
        with open(cnf, "w", encoding="utf-8") as f:
            f.write(scratch_cnf(settings))
        run(["systemd-run", f"--unit={conf['unit']}", "--collect", "--property=Type=simple",
             "/usr/sbin/mysqld", f"--defaults-file={cnf}", "--user=mysql"])
        deadline = time.time() + conf["start_timeout"]
        while time.time() < deadline:
            probe = run(["mysql", "--protocol=socket", "-S", conf["socket"], "-u", "root", "-N", "-B",
                         "-e", "SELECT 1"], check=False)
            if probe.returncode == 0:
                return
            if run(["systemctl", "is-active", "--quiet", conf["unit"]], check=False).returncode != 0:
                break
            time.sleep(0.5)
        raise BackupError(f"the scratch mysqld did not answer; see {settings['log_error']}")

    def scratch_stop(self):
        unit = self.config["scratch"]["unit"]
        if run(["systemctl", "is-active", "--quiet", unit], check=False).returncode == 0:
            run(["systemctl", "stop", unit])
            log(f"stopped {unit}")
        run(["systemctl", "reset-failed", unit], check=False)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="hapair-backup", description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--config", default=CONFIG)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("init", "database", "binlogs", "scratch-stop"):
        sub.add_parser(name)
    rest = sub.add_parser("restore")
    rest.add_argument("--until", help="ISO 8601 point in time (UTC when no offset)")
    rest.add_argument("--include-gtids", help="apply only these transactions past the backup")
    rest.add_argument("--archive", help="the database archive (default: the newest at or before --until)")
    rest.add_argument("--prefix", help="take the database archive of this host's archives")
    rest.add_argument("--binlog-prefix", help="take the binary logs of this host's archives")
    args = parser.parse_args(argv)
    with open(args.config, encoding="utf-8") as f:
        node = Node(json.load(f))
    try:
        if args.command == "init":
            node.init()
        elif args.command == "binlogs":
            node.binlogs()
        elif args.command == "database":
            node.database()
        elif args.command == "scratch-stop":
            node.scratch_stop()
        else:
            report = node.restore(until=parse_until(args.until) if args.until else None,
                                  gtids=args.include_gtids, archive=args.archive, prefix=args.prefix,
                                  binlog_prefix=args.binlog_prefix)
            print(json.dumps(report))
    except BackupError as exc:
        log(f"failed: {exc}")
        if args.command == "database":
            node.write_metrics({"last_run_timestamp_seconds": time.time(), "last_failed": 1})
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
