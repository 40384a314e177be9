#!/usr/bin/env python
"""Check a built collection artifact: what users need is in, lab and test files are out.

    check_artifact.py hapair-stack-X.Y.Z.tar.gz
"""

from __future__ import annotations

import json
import sys
import tarfile

REQUIRED = (
    "MANIFEST.json",
    "FILES.json",
    "README.md",
    "LICENSE",
    "meta/runtime.yml",
    "playbooks/site.yml",
    "roles/sysctl/tasks/main.yml",
    "roles/sysctl/meta/argument_specs.yml",
    "plugins/filter/sysctl_plan.py",
    "inventories/example/hosts.yml",
    # What ansible-builder reads to build an execution environment.
    "meta/execution-environment.yml",
    "meta/ee-requirements.txt",
    "meta/ee-bindep.txt",
)

# Top-level folders and files that belong to development, not to users.
FORBIDDEN_PREFIXES = (
    "tests/",
    "molecule/",
    "lab/",
    "tools/",
    ".ci/",
    ".config/",
    ".venv/",
    ".collections/",
    ".cache/",
    "inventories/lab/",
    "reports/",
)
FORBIDDEN_FILES = ("Makefile", "ansible.cfg", "requirements.txt", "playbooks/lab-up.yml", "playbooks/lab-down.yml")


def problems(names: list[str], manifest: dict) -> list[str]:
    found = []
    for need in REQUIRED:
        if need not in names:
            found.append(f"missing: {need}")
    for name in names:
        if name.startswith(FORBIDDEN_PREFIXES) or name in FORBIDDEN_FILES:
            found.append(f"should not be shipped: {name}")
        if "__pycache__" in name or name.endswith(".pyc"):
            found.append(f"byte code shipped: {name}")
    info = manifest.get("collection_info", {})
    if (info.get("namespace"), info.get("name")) != ("hapair", "stack"):
        found.append(f"wrong collection name: {info.get('namespace')}.{info.get('name')}")
    return found


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    with tarfile.open(argv[0]) as tar:
        names = [m.name[2:] if m.name.startswith("./") else m.name for m in tar.getmembers()]
        manifest = json.load(tar.extractfile("MANIFEST.json"))
    found = problems(names, manifest)
    for line in found:
        print(f"{argv[0]}: {line}", file=sys.stderr)
    if not found:
        print(f"{argv[0]}: {len(names)} entries, none from tests or the lab")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
