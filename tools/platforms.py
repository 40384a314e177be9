#!/usr/bin/env python
"""Keep the tested platforms in one list (tests/platforms.yml) and everything
that states them in step with it.

    platforms.py check
        Fails when a role's meta/main.yml (galaxy_info.platforms) names other
        platforms than the suites that test it, when a scenario the list
        names is missing or runs on another image, or when the README's
        platforms table is stale.

    platforms.py readme [--check]
        Writes the README's platforms table from the list; with --check,
        fails when it is stale.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

import readme_block

ROOT = Path(__file__).resolve().parents[1]
LIST = ROOT / "tests" / "platforms.yml"
README = ROOT / "README.md"
BEGIN = "<!-- BEGIN PLATFORMS (make docs) -->"
END = "<!-- END PLATFORMS -->"


def load(path: Path):
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def role_names(root: Path) -> list[str]:
    return sorted(p.parent.parent.name for p in (root / "roles").glob("*/meta/main.yml"))


def expected_platforms(data: dict, role: str) -> list[dict]:
    """galaxy_info.platforms of a role: Debian, the suites that test it."""
    suites = [s["suite"] for s in data["tested"] if role in s["roles"]]
    return [{"name": "Debian", "versions": suites}] if suites else []


def problems(root: Path, data: dict) -> tuple[list[str], list[str]]:
    """(problems, notes) of the checkout against the list."""
    found, notes = [], []
    roles = role_names(root)
    pending = data.get("not_yet_in_step") or {}
    for suite in data["tested"]:
        for role in suite["roles"]:
            if role not in roles:
                found.append(f"tests/platforms.yml: suite {suite['suite']} lists role {role}, which does not exist")
        for scenario in suite["scenarios"]:
            hosts = root / "molecule" / scenario / "inventory" / "hosts.yml"
            if not hosts.exists():
                found.append(f"tests/platforms.yml: suite {suite['suite']} names scenario {scenario}, "
                             f"which has no {hosts.relative_to(root)}")
                continue
            image = (load(hosts).get("all", {}).get("vars") or {}).get("hapair_lab_image")
            if image != suite["image"]:
                found.append(f"{hosts.relative_to(root)}: hapair_lab_image is {image}, but tests/platforms.yml "
                             f"says scenario {scenario} runs on {suite['image']} (suite {suite['suite']})")
    for role in roles:
        meta = load(root / "roles" / role / "meta" / "main.yml") or {}
        have = (meta.get("galaxy_info") or {}).get("platforms") or []
        want = expected_platforms(data, role)
        if have != want:
            text = (f"roles/{role}/meta/main.yml: galaxy_info.platforms is {have}, but tests/platforms.yml "
                    f"tests it on {want or 'nothing'}")
            if role in pending:
                notes.append(f"{text} (not yet in step: {pending[role]})")
            else:
                found.append(text)
    return found, notes


def table(data: dict) -> str:
    """The README's platforms table."""
    out = [BEGIN, "", "| Platform | Tested with | Roles |", "| --- | --- | --- |"]
    for suite in data["tested"]:
        scenarios = ", ".join(f"`{s}`" for s in suite["scenarios"])
        how = " ".join(suite["how"].split())
        roles = ", ".join(suite["roles"])
        out.append(f"| {suite['title']}, reported as `{suite['release']}` | Molecule {scenarios} on "
                   f"`{suite['image']}`: {how} | {roles} |")
    out += ["", "Not tested:", ""]
    for item in data.get("untested") or []:
        out.append(f"- {item['platform']}: {' '.join(item['why'].split())}.")
    out += ["", END]
    return "\n".join(out)


def readme(path: Path, data: dict, check_only: bool) -> int:
    return readme_block.rewrite(path, (BEGIN, END), table(data), "the platforms table", check_only)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("check")
    p_readme = sub.add_parser("readme")
    p_readme.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    data = load(LIST)
    if args.command == "readme":
        return readme(README, data, args.check)
    found, notes = problems(ROOT, data)
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    for problem in found:
        print(problem, file=sys.stderr)
    stale = readme(README, data, check_only=True)
    return 1 if found or stale else 0


if __name__ == "__main__":
    sys.exit(main())
