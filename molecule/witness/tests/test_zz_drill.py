"""The failover drill, end to end, on the pair and its witness (runs last: it
breaks the pair on purpose, once per scenario that the witness changes). It
runs the way users of the installed collection run it
(hapair.stack.failover_drill), then its report is checked: every scenario
restored the pair, no acknowledged write was lost, no write was committed by
two primaries, and the web VIP was never on both nodes except while the link
between them was cut, and then only until the side cut off from the group's
primary dropped it by itself, every scenario was judged as the witness
topology promises (no operator step), and the log pipeline was measured. The
measured table is printed for the notes; the thresholds here only catch a
broken pair."""

import json
import os
import subprocess
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[3]
DRILL_DEADLINE = 2400
RTO_CEILING = 60
# Where the web VIP may be on both nodes at once, reported as a split brain.
WEB_DOUBLE_MASTER_EXPECTED = {"link_cut"}


def playbook(name, *extra, timeout):
    env = dict(os.environ)
    env.setdefault("ANSIBLE_COLLECTIONS_PATH", str(REPO / ".collections"))
    return subprocess.run(
        ["ansible-playbook", "-i", os.path.join(os.environ["MOLECULE_SCENARIO_DIRECTORY"], "inventory"), name, *extra],
        check=False, capture_output=True, text=True, timeout=timeout, env=env)


def newest_report(reports_dir):
    runs = sorted(p for p in Path(reports_dir).iterdir() if (p / "report.json").is_file())
    assert runs, f"no report in {reports_dir}"
    return runs[-1]


def test_the_drill_measures_every_scenario_and_leaves_the_pair_healthy(inventory, tmp_path):
    reports = tmp_path / "reports"
    reports.mkdir()
    run = playbook("hapair.stack.failover_drill", "-e", f"drill_reports_dir={reports}",
                   "-e", "drill_fail_on_findings=false", timeout=DRILL_DEADLINE)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    folder = newest_report(reports)
    report = json.loads((folder / "report.json").read_text())
    print((folder / "report.md").read_text())
    keep = REPO / "reports" / "molecule-witness"
    keep.mkdir(parents=True, exist_ok=True)
    subprocess.run(["cp", "-r", str(folder), str(keep)], check=True)

    members = sorted(inventory["_meta"]["hostvars"])
    scenarios = {s["name"]: s for s in report["scenarios"]}
    # The scenarios the witness changes (inventory/hosts.yml); the role's
    # full list is drilled in the lab (README, "Measured, per topology").
    chosen = inventory["_meta"]["hostvars"]["ha1"].get("drill_scenarios") or yaml.safe_load(
        (REPO / "roles" / "drill" / "defaults" / "main.yml").read_text())["drill_scenarios"]
    assert sorted(scenarios) == sorted(chosen), "a scenario did not run"
    problems = []
    for name, scenario in scenarios.items():
        result = scenario["result"]
        if result["lost_writes"]:
            problems.append(f"{name}: acknowledged writes lost {result['lost_by_member']}")
        if result["divergent_commits"]:
            problems.append(f"{name}: writes committed by two primaries {result['divergent_commits']}")
        if result["double_masters"] and name not in WEB_DOUBLE_MASTER_EXPECTED:
            problems.append(f"{name}: the web VIP on both nodes {result['double_masters']}")
        for vip, stretch in (result.get("double_master") or {}).items():
            # Allowed in a cut only while the group settles it: the side
            # cut off from the primary drops its VIPs by itself.
            if stretch and not stretch.get("ended_by_itself"):
                problems.append(f"{name}: the {vip} VIP stayed on both nodes until the link was mended {stretch}")
        if result["writes_acknowledged"] == 0:
            problems.append(f"{name}: no write acknowledged")
        if result["rto_seconds"] > RTO_CEILING:
            problems.append(f"{name}: RTO {result['rto_seconds']} s")
        if sorted(scenario["members_read"]) != members:
            problems.append(f"{name}: rows read on {scenario['members_read']} only")
        if scenario["judged"]["recovery"] != "automatic":
            problems.append(f"{name}: judged as needing an operator {scenario['judged']}")
        if result["logs"] is None:
            problems.append(f"{name}: the access-log lines were not read from Kafka")
    assert report["hapair_topology"] == "witness"
    assert not problems, problems
    for name, scenario in scenarios.items():
        result = scenario["result"]
        measure = {"scenario": name, "rto_s": result["rto_seconds"], "lost": len(result["lost_writes"]),
                   "split_brain": result["split_brain"], "log_lines_lost": result["logs"]["lines_lost"],
                   "log_lines_repeated": result["logs"]["lines_repeated"]}
        print(f"MEASURE {json.dumps(measure)}")

    # The pair is healthy afterwards, by the same gate every site.yml run ends with.
    health = playbook("hapair.stack.health", timeout=600)
    assert health.returncode == 0, health.stdout[-4000:] + health.stderr[-4000:]
