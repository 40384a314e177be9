"""lab/alert-sink.py: receives Alertmanager's payloads and appends them as JSON lines."""

import importlib.util
import json
import threading
import urllib.request
from http.server import ThreadingHTTPServer
from pathlib import Path

SINK = Path(__file__).resolve().parents[2] / "lab" / "alert-sink.py"


def load():
    spec = importlib.util.spec_from_file_location("alert_sink", SINK)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_payloads_become_json_lines(tmp_path):
    sink = load()
    sink.Sink.out = str(tmp_path / "alerts.jsonl")
    server = ThreadingHTTPServer(("127.0.0.1", 0), sink.Sink)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = "http://127.0.0.1:%d/alerts" % server.server_address[1]
        for status in ("firing", "resolved"):
            body = json.dumps({"status": status, "alerts": [{"labels": {"alertname": "HapairNodeDown"}}]}).encode()
            request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(request, timeout=5) as answer:
                assert answer.status == 200
        lines = [json.loads(line) for line in (tmp_path / "alerts.jsonl").read_text().splitlines()]
        assert [line["payload"]["status"] for line in lines] == ["firing", "resolved"]
        assert all(line["from"] == "127.0.0.1" and line["received"] > 0 for line in lines)
    finally:
        server.shutdown()
