"""Every alert rule of the monitoring role has promtool tests (files/hapair.tests.yml)
that expect it to fire and to stay quiet. promtool itself runs the tests on the
nodes (the role's verify step); this test only reads the YAML, so it runs
anywhere, and fails the day a rule is added without a test."""

from pathlib import Path

import pytest
import yaml

FILES = Path(__file__).resolve().parents[4] / "roles" / "monitoring" / "files"


def alert_rules(rules):
    return {rule["alert"]: rule for group in rules["groups"] for rule in group["rules"] if "alert" in rule}


def checks_by_alert(tests):
    """{alertname: {"fires": bool, "quiet": bool}} over every test case."""
    seen = {}
    for case in tests["tests"]:
        for check in case.get("alert_rule_test", []):
            entry = seen.setdefault(check["alertname"], {"fires": False, "quiet": False})
            if check.get("exp_alerts"):
                entry["fires"] = True
            else:
                entry["quiet"] = True
    return seen


def coverage_problems(rules, tests):
    problems = []
    seen = checks_by_alert(tests)
    for name, rule in alert_rules(rules).items():
        if "for" not in rule:
            problems.append(f"{name}: no `for:` delay")
        if name not in seen:
            problems.append(f"{name}: no promtool test")
            continue
        if not seen[name]["fires"]:
            problems.append(f"{name}: no test expects it to fire")
        if not seen[name]["quiet"]:
            problems.append(f"{name}: no test expects it to stay quiet")
    for name in sorted(set(seen) - set(alert_rules(rules))):
        problems.append(f"{name}: tested, but no such rule")
    return problems


@pytest.fixture(scope="module")
def shipped():
    rules = yaml.safe_load((FILES / "hapair.rules.yml").read_text())
    tests = yaml.safe_load((FILES / "hapair.tests.yml").read_text())
    return rules, tests


def test_every_shipped_rule_has_tests(shipped):
    rules, tests = shipped
    assert coverage_problems(*shipped) == []
    assert tests["rule_files"] == ["hapair.rules.yml"]
    assert len(alert_rules(rules)) >= 10


def test_a_rule_without_a_test_is_found(shipped):
    rules, tests = shipped
    extra = {"alert": "HapairUntested", "expr": "vector(1)", "for": "1m"}
    rules = {"groups": rules["groups"] + [{"name": "extra", "rules": [extra]}]}
    assert coverage_problems(rules, tests) == ["HapairUntested: no promtool test"]


def test_a_rule_only_tested_quiet_is_found(shipped):
    rules, tests = shipped
    name = next(iter(alert_rules(rules)))
    cases = [{**case, "alert_rule_test": [c for c in case.get("alert_rule_test", [])
                                          if c["alertname"] != name or not c.get("exp_alerts")]}
             for case in tests["tests"]]
    assert coverage_problems(rules, {**tests, "tests": cases}) == [f"{name}: no test expects it to fire"]


def test_a_rule_without_for_is_found(shipped):
    rules, tests = shipped
    rule = dict(rules["groups"][0]["rules"][0])
    del rule["for"]
    groups = [{"name": "g", "rules": [rule]}] + [
        {**g, "rules": [r for r in g["rules"] if r.get("alert") != rule["alert"]]} for g in rules["groups"]]
    assert coverage_problems({"groups": groups}, tests) == [f"{rule['alert']}: no `for:` delay"]
