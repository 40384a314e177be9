#!/usr/bin/python3
"""The pair's canary: a tiny HTTP service that says which node answered.

GET /health -> 200 {"status": "ok", "node": ...}
GET /       -> 200 {"node": ..., "address": ..., "time": ...}
Configured from the environment (CANARY_NODE, CANARY_ADDRESS, CANARY_PORT);
Python's standard library only.

With a database (CANARY_DB_* in the environment, python3-pymysql):
POST /write?seq=N -> 200 {"seq": N, "node": ..., "db": ...} only after COMMIT
                     through the database VIP; 409 for a seq already
                     written; 503 {"error": ..., "seq": N} on any failure.
GET /read?seq=N   -> 200 {"seq": N, "present": bool, "db": ..., "reader": ...}
                     read from this node's own member.
GET /state        -> 200 {"node": ..., "vrrp": {instance: state},
                     "held": {instance: bool}, "gr_role": ..., "gr_state": ...}:
                     keepalived's state files (STOP for every instance while
                     keepalived is not running), whether this node holds each
                     instance's VIPs (the kernel's addresses, what clients
                     reach), and this node's member of the group.
A new connection per request (short timeouts), so a dead primary costs one
error, never a hang, and the next request follows the VIP.
"""

import json
import os
import signal
import ssl
import subprocess
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

NODE = os.environ.get("CANARY_NODE", os.uname().nodename)
ADDRESS = os.environ.get("CANARY_ADDRESS", "127.0.0.1")
PORT = int(os.environ.get("CANARY_PORT", "8080"))

# MySQL error numbers the answers distinguish.
ER_DUP_ENTRY = 1062
SEQ_MAX = 2**63 - 1


class BadRequest(ValueError):
    """A request the canary answers with 400."""


def db_config(environ):
    """The database settings from the environment, or None without them."""
    if not environ.get("CANARY_DB_WRITE_HOST"):
        return None
    database = environ.get("CANARY_DB_NAME", "hapair")
    table = environ.get("CANARY_DB_TABLE", "canary_writes")
    for name in (database, table):
        if not name.replace("_", "").isalnum():
            raise ValueError(f"odd database or table name {name!r}")
    return {
        "write_host": environ["CANARY_DB_WRITE_HOST"],
        "local_host": environ.get("CANARY_DB_LOCAL_HOST", "127.0.0.1"),
        "port": int(environ.get("CANARY_DB_PORT", "3306")),
        "user": environ.get("CANARY_DB_USER", "hapair_app"),
        "password": environ.get("CANARY_DB_PASSWORD", ""),
        "table": f"`{database}`.`{table}`",
        "timeout": float(environ.get("CANARY_DB_TIMEOUT", "2")),
    }


def vrrp_config(environ):
    """Where keepalived's state files, pid file and manifest are."""
    return {
        "state_dir": environ.get("CANARY_VRRP_STATE_DIR", "/var/lib/hapair/vrrp"),
        "pid_file": environ.get("CANARY_VRRP_PID_FILE", "/run/keepalived.pid"),
        "manifest": environ.get("CANARY_VRRP_MANIFEST", "/etc/keepalived/hapair-vips.json"),
    }


def parse_seq(query):
    """The seq argument of a query string: a non-negative 64-bit integer."""
    values = parse_qs(query, keep_blank_values=True).get("seq", [])
    if len(values) != 1:
        raise BadRequest("give exactly one seq=N")
    text = values[0].strip()
    if not text.isdigit() or int(text) > SEQ_MAX:
        raise BadRequest(f"seq must be an integer from 0 to {SEQ_MAX}, not {text[:40]!r}")
    return int(text)


def error_number(exc):
    """The MySQL error number of a driver exception (pymysql puts it first in args)."""
    args = getattr(exc, "args", ())
    return args[0] if args and isinstance(args[0], int) else None


def describe(exc):
    """A one-line error text: the exception's type and message, without credentials."""
    text = " ".join(str(a) for a in getattr(exc, "args", ()) if a != "") or str(exc)
    return f"{type(exc).__name__}: {text}"[:300]


def write_answer(seq, node, db=None, exc=None):
    """(status, body) of a write: 200 after COMMIT, 409 duplicate, 503 otherwise."""
    if exc is None:
        return 200, {"seq": seq, "node": node, "db": db}
    status = 409 if error_number(exc) == ER_DUP_ENTRY else 503
    return status, {"error": describe(exc), "seq": seq, "node": node}


def read_answer(seq, row, reader):
    """The body of a read: whether the row is on this node's member."""
    return {"seq": seq, "present": row is not None, "db": row[0] if row else None, "reader": reader}


def gr_answer(row):
    """(role, state) of this node's member: (None, None) outside a group."""
    if not row:
        return None, None
    return row[0] or None, row[1] or None


def vrrp_states(state_dir):
    """instance -> state from keepalived's notify state files (<name>.state, JSON)."""
    states = {}
    try:
        names = sorted(os.listdir(state_dir))
    except OSError:
        return states
    for name in names:
        if not name.endswith(".state") or name.startswith("."):
            continue
        try:
            with open(os.path.join(state_dir, name), encoding="utf-8") as handle:
                data = json.load(handle)
        except (OSError, ValueError):
            states[name[: -len(".state")]] = None
            continue
        states[data.get("instance") or name[: -len(".state")]] = data.get("state")
    return states


def keepalived_running(pid_file):
    """Whether the process named in keepalived's pid file is alive."""
    try:
        with open(pid_file, encoding="ascii") as handle:
            pid = int(handle.read().strip() or 0)
    except (OSError, ValueError):
        return False
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except PermissionError:
        return True  # alive, owned by root
    except OSError:
        return False
    return True


def held_addresses(ip_json):
    """Every address in the text of ``ip -j addr``."""
    return {a.get("local") for link in json.loads(ip_json or "[]") for a in link.get("addr_info") or []}


def vips_held(manifest, addresses):
    """instance -> whether this node holds every VIP of the instance.

    manifest is keepalived's manifest of this node (role hapair.stack.keepalived).
    """
    held = {}
    for instance in manifest.get("instances") or []:
        vips = [str(v.get("address") or v.get("cidr") or "" if isinstance(v, dict) else v).split("/", maxsplit=1)[0]
                for v in instance.get("vips") or []]
        held[instance.get("name")] = bool(vips) and all(v in addresses for v in vips)
    return held


def read_vips_held(manifest_path):
    """vips_held() of this node, or {} when there is no manifest or no answer from ip."""
    try:
        with open(manifest_path, encoding="utf-8") as handle:
            manifest = json.load(handle)
        run = subprocess.run(["ip", "-j", "addr", "show"], capture_output=True, text=True, timeout=2, check=True)
        return vips_held(manifest, held_addresses(run.stdout))
    except (OSError, ValueError, subprocess.SubprocessError):
        return {}


class Database:
    """A connection per call: to the database VIP for writes, to this node's member for reads."""

    def __init__(self, config):
        import pymysql  # Debian's python3-pymysql; only needed with a database

        self.pymysql = pymysql
        self.config = config
        # TLS (the server's self-signed certificate is not checked): with
        # caching_sha2_password a first login on a member needs a secure link.
        self.tls = ssl.create_default_context()
        self.tls.check_hostname = False
        self.tls.verify_mode = ssl.CERT_NONE

    def connect(self, host):
        c = self.config
        return self.pymysql.connect(
            host=host, port=c["port"], user=c["user"], password=c["password"],
            connect_timeout=c["timeout"], read_timeout=c["timeout"], write_timeout=c["timeout"],
            autocommit=False, ssl=self.tls,
        )

    def write(self, seq, node):
        """Insert seq through the VIP; the member's @@hostname once committed."""
        conn = self.connect(self.config["write_host"])
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT @@hostname")
                db = cur.fetchone()[0]
                cur.execute(f"INSERT INTO {self.config['table']} (seq, node, db) VALUES (%s, %s, %s)", (seq, node, db))
            conn.commit()
            return db
        finally:
            conn.close()

    def read(self, seq):
        conn = self.connect(self.config["local_host"])
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT @@hostname")
                reader = cur.fetchone()[0]
                cur.execute(f"SELECT db FROM {self.config['table']} WHERE seq = %s", (seq,))
                return cur.fetchone(), reader
        finally:
            conn.close()

    def member(self):
        conn = self.connect(self.config["local_host"])
        try:
            with conn.cursor() as cur:
                cur.execute(
                    "SELECT MEMBER_ROLE, MEMBER_STATE FROM performance_schema.replication_group_members"
                    " WHERE MEMBER_ID = @@server_uuid"
                )
                return cur.fetchone()
        finally:
            conn.close()


DB_CONFIG = db_config(os.environ)
VRRP = vrrp_config(os.environ)
DB = Database(DB_CONFIG) if DB_CONFIG else None


class Handler(BaseHTTPRequestHandler):
    # HTTP/1.1 keeps connections open, so Nginx can reuse them (keepalive).
    protocol_version = "HTTP/1.1"
    server_version = "hapair-canary/1"

    def _send(self, status, body):
        data = (json.dumps(body) + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def do_GET(self):  # noqa: N802 (the name http.server calls)
        path, _sep, query = self.path.partition("?")
        if path == "/health":
            self._send(200, {"status": "ok", "node": NODE})
        elif path == "/":
            self._send(200, {"node": NODE, "address": ADDRESS, "time": time.time()})
        elif path == "/read" and DB:
            self._read(query)
        elif path == "/state":
            self._state()
        else:
            self._send(404, {"error": "not found", "node": NODE})

    def do_POST(self):  # noqa: N802 (the name http.server calls)
        path, _sep, query = self.path.partition("?")
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(min(length, 65536))  # the body is not used
        if path == "/write" and DB:
            self._write(query)
        else:
            self._send(404, {"error": "not found", "node": NODE})

    def _write(self, query):
        try:
            seq = parse_seq(query)
        except BadRequest as exc:
            self._send(400, {"error": str(exc), "seq": None})
            return
        try:
            db = DB.write(seq, NODE)
        except Exception as exc:  # noqa: BLE001 (every failure is an answer)
            self._send(*write_answer(seq, NODE, exc=exc))
            return
        self._send(*write_answer(seq, NODE, db=db))

    def _read(self, query):
        try:
            seq = parse_seq(query)
        except BadRequest as exc:
            self._send(400, {"error": str(exc), "seq": None})
            return
        try:
            row, reader = DB.read(seq)
        except Exception as exc:  # noqa: BLE001
            self._send(503, {"error": describe(exc), "seq": seq, "node": NODE})
            return
        self._send(200, read_answer(seq, row, reader))

    def _state(self):
        vrrp = vrrp_states(VRRP["state_dir"])
        if not keepalived_running(VRRP["pid_file"]):
            vrrp = dict.fromkeys(vrrp, "STOP")
        body = {"node": NODE, "vrrp": vrrp, "held": read_vips_held(VRRP["manifest"])}
        body["gr_role"], body["gr_state"] = None, None
        if DB:
            try:
                body["gr_role"], body["gr_state"] = gr_answer(DB.member())
            except Exception as exc:  # noqa: BLE001 (a down mysqld is a state too)
                body["gr_error"] = describe(exc)
        self._send(200, body)

    do_HEAD = do_GET

    def log_message(self, format, *args):  # noqa: A002 (the signature http.server uses)
        # Nginx logs every request already; the journal gets errors only.
        pass


class Server(ThreadingHTTPServer):
    # socketserver's default backlog of 5 refuses connections (Nginx: 502)
    # as soon as a burst of requests waits on a slow database.
    request_queue_size = 128


def main():
    server = Server((ADDRESS, PORT), Handler)
    server.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"canary {NODE} listening on {ADDRESS}:{PORT}", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
