"""Monitoring on the converged pair (runs first, before any test breaks
something): each node's Prometheus scrapes every target of the pair, and a
healthy pair raises no alert. A metric that reads wrong on a healthy pair
(a state script that cannot read Kafka's quorum, say) shows here as an
alert that never ends."""

import json
import time
import urllib.request

PROMETHEUS_PORT = 9090
# Alerts of the converge's own restarts resolve within a few evaluations;
# the deadline only catches one that does not.
QUIET_DEADLINE = 240


def api(address, path):
    with urllib.request.urlopen(f"http://{address}:{PROMETHEUS_PORT}{path}", timeout=10) as answer:
        return json.load(answer)["data"]


def test_every_target_of_the_pair_is_scraped_and_up(lab):
    for node, address in lab["address"].items():
        targets = api(address, "/api/v1/targets?state=active")["activeTargets"]
        deadline = time.monotonic() + QUIET_DEADLINE
        while any(t["health"] != "up" for t in targets) and time.monotonic() < deadline:
            time.sleep(5)
            targets = api(address, "/api/v1/targets?state=active")["activeTargets"]
        down = [(t["labels"].get("job"), t["labels"].get("instance"), t.get("lastError")) for t in targets
                if t["health"] != "up"]
        assert targets and not down, f"{node}'s Prometheus: targets not up {down}"
        jobs = {t["labels"]["job"] for t in targets}
        assert {"node", "icmp", "http"} <= jobs, f"{node}'s Prometheus scrapes only {sorted(jobs)}"


def test_a_healthy_pair_raises_no_alert(lab):
    for node, address in lab["address"].items():
        deadline = time.monotonic() + QUIET_DEADLINE
        while True:
            active = api(address, "/api/v1/alerts")["alerts"]
            firing = sorted((a["labels"]["alertname"], a["labels"].get("node", "")) for a in active if a["state"] == "firing")
            if not firing or time.monotonic() > deadline:
                break
            time.sleep(5)
        assert not firing, f"{node}'s Prometheus has alerts firing on a healthy pair: {firing}"
