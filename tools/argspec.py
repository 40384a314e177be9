#!/usr/bin/env python
"""Keep every role's argument spec, its defaults and the README in step.

    argspec.py check ROLES_DIR
        Fails when a role's defaults/main.yml and the `main` entry point of its
        meta/argument_specs.yml disagree: a default with no option, an option
        of the role's own prefix with no default (unless required), an option
        with no type or description.

    argspec.py readme ROLES_DIR README [--check]
        Writes the variables reference between the README's markers, from the
        argument specs and defaults; with --check, fails when it is stale.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

import readme_block

BEGIN = "<!-- BEGIN VARIABLES (make docs) -->"
END = "<!-- END VARIABLES -->"


def load_yaml(path: Path):
    if not path.exists():
        return None
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def role_data(role_dir: Path):
    """Return (defaults, options) of a role; options from its `main` entry point."""
    defaults = load_yaml(role_dir / "defaults" / "main.yml") or {}
    specs = load_yaml(role_dir / "meta" / "argument_specs.yml") or {}
    entry = (specs.get("argument_specs") or {}).get("main") or {}
    return defaults, entry


def role_problems(role_dir: Path) -> list[str]:
    """Everything that is out of step in one role."""
    name = role_dir.name
    problems = []
    if not (role_dir / "meta" / "argument_specs.yml").exists():
        return [f"{name}: meta/argument_specs.yml is missing"]
    defaults, entry = role_data(role_dir)
    options = entry.get("options") or {}
    if not entry.get("short_description"):
        problems.append(f"{name}: the main entry point has no short_description")
    for var in defaults:
        if var not in options:
            problems.append(f"{name}: default '{var}' is not an option in meta/argument_specs.yml")
    for var, spec in options.items():
        spec = spec or {}
        if not spec.get("type"):
            problems.append(f"{name}: option '{var}' has no type")
        if not spec.get("description"):
            problems.append(f"{name}: option '{var}' has no description")
        own = var.startswith(f"{name}_")
        if own and var not in defaults and not spec.get("required"):
            problems.append(f"{name}: option '{var}' has no default in defaults/main.yml and is not required")
        if "default" in spec and var in defaults and spec["default"] != defaults[var]:
            problems.append(f"{name}: option '{var}' has a default in the spec that differs from defaults/main.yml")
    return problems


def roles(roles_dir: Path) -> list[Path]:
    return sorted(p for p in roles_dir.iterdir() if (p / "tasks").is_dir())


def check(roles_dir: Path) -> int:
    problems = [p for role in roles(roles_dir) for p in role_problems(role)]
    for problem in problems:
        print(problem, file=sys.stderr)
    if not problems:
        print(f"argument specs in step with defaults for {len(roles(roles_dir))} roles")
    return 1 if problems else 0


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _default(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "`true`" if value else "`false`"
    if isinstance(value, (dict, list)):
        if not value:
            return "`{}`" if isinstance(value, dict) else "`[]`"
        return "see defaults/main.yml"
    return f"`{value}`"


def reference(roles_dir: Path) -> str:
    """The Markdown variables reference of every role."""
    out = [BEGIN, ""]
    for role in roles(roles_dir):
        defaults, entry = role_data(role)
        options = entry.get("options") or {}
        out.append(f"### Role `hapair.stack.{role.name}`")
        out.append("")
        out.append(_cell(entry.get("short_description", "")) + ".")
        out.append("")
        out.append("| Variable | Type | Default | Description |")
        out.append("| --- | --- | --- | --- |")
        for var, spec in options.items():
            spec = spec or {}
            kind = spec.get("type", "")
            if spec.get("elements"):
                kind = f"{kind} of {spec['elements']}"
            default = "required" if spec.get("required") else _default(defaults.get(var))
            desc = spec.get("description", "")
            if isinstance(desc, list):
                desc = " ".join(desc)
            if spec.get("choices"):
                desc = f"{desc} One of: {', '.join(str(c) for c in spec['choices'])}."
            out.append(f"| `{var}` | {kind} | {_cell(default)} | {_cell(desc)} |")
        out.append("")
    out.append(END)
    return "\n".join(out)


def readme(roles_dir: Path, readme_path: Path, check_only: bool) -> int:
    return readme_block.rewrite(readme_path, (BEGIN, END), reference(roles_dir), "the variables reference", check_only)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p_check = sub.add_parser("check")
    p_check.add_argument("roles", type=Path)
    p_readme = sub.add_parser("readme")
    p_readme.add_argument("roles", type=Path)
    p_readme.add_argument("readme", type=Path)
    p_readme.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    if args.command == "check":
        return check(args.roles)
    return readme(args.roles, args.readme, args.check)


if __name__ == "__main__":
    sys.exit(main())
