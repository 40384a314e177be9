"""The drill's probe against a small local HTTP server on loopback that
answers like the canary and fails on purpose for a while."""

import importlib.util
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from ansible_collections.hapair.stack.plugins.module_utils import drill

PROBE = Path(__file__).resolve().parents[4] / "roles" / "drill" / "files" / "hapair-probe.py"


def load_probe():
    spec = importlib.util.spec_from_file_location("hapair_probe", PROBE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Canary(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    down = threading.Event()
    committed = []

    def _send(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):  # noqa: N802
        seq = int(self.path.split("seq=")[1])
        if self.down.is_set():
            self._send(503, {"error": "database unavailable", "seq": seq})
            return
        self.committed.append(seq)
        self._send(200, {"seq": seq, "node": "ha1", "db": "ha1"})

    def do_GET(self):  # noqa: N802
        if self.down.is_set():
            self._send(503, {"error": "down"})
        else:
            self._send(200, {"node": "ha1", "vrrp": {"web": "MASTER"}, "gr_role": "PRIMARY"})

    def log_message(self, *args):
        pass


@pytest.fixture
def canary():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Canary)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Canary.committed = []
    Canary.down.clear()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_the_probe_measures_an_outage_and_stops_on_its_stop_file(canary, tmp_path):
    probe = load_probe()
    out, stop = tmp_path / "probe.jsonl", tmp_path / "stop"

    def outage():
        time.sleep(0.6)
        Canary.down.set()
        time.sleep(0.8)
        Canary.down.clear()
        time.sleep(0.6)
        stop.touch()

    threading.Thread(target=outage, daemon=True).start()
    started = time.monotonic()
    rc = probe.main([
        "--write-url", f"{canary}/write", "--state", f"ha1={canary}/state", "--out", str(out),
        "--rate", "50", "--timeout", "1", "--state-interval", "0.1", "--duration", "20",
        "--first-seq", "1", "--stop-file", str(stop),
    ])
    assert rc == 0
    assert time.monotonic() - started < 5, "the probe did not stop on its stop file"

    records = drill.parse_records(out.read_text())
    writes = records["writes"]
    assert 70 <= len(writes) <= 120  # about 2 s at 50 per second
    assert [r["seq"] for r in sorted(writes, key=lambda r: r["seq"])] == list(range(1, len(writes) + 1))
    failed = [r for r in writes if not r["ok"]]
    assert failed and all(r["status"] == 503 for r in failed)
    assert sorted(r["seq"] for r in writes if r["ok"]) == sorted(Canary.committed)
    seconds, _unused, _unused = drill.longest_outage(writes)
    assert 0.7 <= seconds <= 1.3
    assert any(not r["ok"] for r in records["states"]) and any(r["ok"] for r in records["states"])


def test_an_unreachable_vip_is_recorded_as_failed_writes(tmp_path):
    probe = load_probe()
    out = tmp_path / "probe.jsonl"
    # Port 1 on loopback: nothing listens there, the connection is refused.
    probe.main(["--write-url", "http://127.0.0.1:1/write", "--out", str(out), "--rate", "20", "--duration", "0.5"])
    writes = drill.parse_records(out.read_text())["writes"]
    assert writes and not any(r["ok"] for r in writes)
    assert all("ConnectionRefused" in r["error"] or "URLError" in r["error"] for r in writes)
