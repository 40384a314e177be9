#!/usr/bin/env python
"""Install the built collection the way a user does, and run its playbook.

    install_check.py --core VENV --work DIR [--introspect] ARTIFACT

VENV holds a bare ansible-core (no `ansible` bundle); ARTIFACT is the
collection built by `make build`. The collections it declares in
galaxy.yml (its MANIFEST.json) are packed from the PyPI `ansible` bundle of
the Python running this script (no Galaxy server is reachable here), then
`ansible-galaxy collection install --offline` installs the artifact and
those packs into DIR/collections, so the resolver checks every declared
range against the bundled versions. `ansible-playbook --syntax-check
hapair.stack.site` then runs against nothing but DIR/collections: a module,
module_defaults group or role from a collection that galaxy.yml does not
declare is not there, and the check fails.

With --for-converge, the venv is then made ready for a converge from the
installed copy, as a user's controller is: the collection's own Python
needs (its meta/ee-requirements.txt, the file its execution environment
definition names) go into the venv, and so do what the lab needs to reach
its nodes, kept apart: each --lab-collection (community.docker, for the
lab's connection and its create and destroy playbooks) in
DIR/lab-collections, not DIR/collections, so the syntax check above still
sees only what galaxy.yml declares; each --lab-python package (requests,
for community.docker's modules) in the venv. `make test` then runs the
scenarios of INSTALLED_SCENARIOS with that venv's ansible-playbook and
nothing but those two folders (Makefile: INSTALLED_ENV).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import yaml


def bundle_root() -> Path:
    """The ansible_collections folder of PyPI's `ansible` package."""
    import ansible_collections  # pylint: disable=import-outside-toplevel

    for entry in ansible_collections.__path__:
        if (Path(entry) / "ansible_community.py").exists():
            return Path(entry)
    sys.exit("install_check: the PyPI 'ansible' package is not installed in this Python")


def manifest(path: Path) -> dict:
    return json.loads((path / "MANIFEST.json").read_text())["collection_info"]


def artifact_manifest(artifact: Path) -> dict:
    with tarfile.open(artifact) as tar:
        return json.load(tar.extractfile("MANIFEST.json"))["collection_info"]


def pack(source: Path, dest_dir: Path) -> Path:
    """Tar an installed collection into an artifact, once per version.

    The bundle ships each collection with its MANIFEST.json and FILES.json
    but without the files it strips (tests, CI settings), which FILES.json
    still lists and `ansible-galaxy collection install` would fail to
    extract: FILES.json is written again with the entries that are there
    (their checksums are checked, and match), and MANIFEST.json with its
    checksum.
    """
    info = manifest(source)
    target = dest_dir / f"{info['namespace']}-{info['name']}-{info['version']}.tar.gz"
    if target.exists():
        return target
    dest_dir.mkdir(parents=True, exist_ok=True)

    files = json.loads((source / "FILES.json").read_text())
    kept = []
    for entry in files["files"]:
        path = source / entry["name"]
        if entry["name"] == ".":  # the collection's own folder
            kept.append(entry)
            continue
        if not os.path.lexists(path):
            continue
        if entry["ftype"] == "file" and hashlib.sha256(path.read_bytes()).hexdigest() != entry["chksum_sha256"]:
            sys.exit(f"install_check: {path} differs from its FILES.json checksum")
        kept.append(entry)
    files["files"] = kept
    files_json = json.dumps(files, indent=4).encode()
    full_manifest = json.loads((source / "MANIFEST.json").read_text())
    full_manifest["file_manifest_file"]["chksum_sha256"] = hashlib.sha256(files_json).hexdigest()
    manifest_json = json.dumps(full_manifest, indent=4).encode()

    def add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
        member = tarfile.TarInfo(name)
        member.size, member.mode = len(data), 0o644
        tar.addfile(member, io.BytesIO(data))

    partial = target.with_suffix(".partial")
    with tarfile.open(partial, "w:gz") as tar:
        add_bytes(tar, "MANIFEST.json", manifest_json)
        add_bytes(tar, "FILES.json", files_json)
        for entry in kept:
            if entry["name"] != ".":
                tar.add(source / entry["name"], arcname=entry["name"], recursive=False)
    partial.rename(target)
    return target


def dependency_packs(deps: dict, bundle: Path, dest_dir: Path) -> list[Path]:
    """Pack every declared dependency, and theirs, from the bundle."""
    packs, todo, seen = [], list(deps), set()
    while todo:
        fqcn = todo.pop()
        if fqcn in seen:
            continue
        seen.add(fqcn)
        namespace, name = fqcn.split(".", 1)
        source = bundle / namespace / name
        if not (source / "MANIFEST.json").exists():
            sys.exit(f"install_check: {fqcn} is declared but not in the ansible bundle at {bundle}")
        packs.append(pack(source, dest_dir))
        todo.extend(manifest(source).get("dependencies") or {})
    return packs


def run(cmd: list, **kwargs) -> None:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    subprocess.run([str(c) for c in cmd], check=True, **kwargs)


def check_ee_metadata(collections: Path) -> None:
    """ansible-builder finds, in the installed copy, the needs the collection declares.

    Reading the installed copy proves that build_ignore ships the files
    meta/execution-environment.yml names.
    """
    installed = collections / "ansible_collections/hapair/stack"
    meta = yaml.safe_load((installed / "meta/execution-environment.yml").read_text())
    wanted = {}
    for kind in ("python", "system"):
        lines = (installed / meta["dependencies"][kind]).read_text().splitlines()
        wanted[kind] = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    out = subprocess.run(["ansible-builder", "introspect", str(collections.resolve())],
                         check=True, capture_output=True, text=True).stdout
    found = yaml.safe_load(out)
    for kind, lines in wanted.items():
        seen = found.get(kind) or []
        for line in lines:
            if f"{line}  # from collection hapair.stack" not in seen:
                sys.exit(f"install_check: ansible-builder introspect does not list {kind} need '{line}' "
                         f"of hapair.stack; it lists {seen}")
    print(f"install_check: ansible-builder introspect lists hapair.stack's needs: {wanted}")


def prepare_converge(core: Path, collections: Path, args: argparse.Namespace, env: dict) -> None:
    """Make the bare ansible-core able to run the installed copy against the lab's nodes."""
    installed = collections / "ansible_collections/hapair/stack"
    meta = yaml.safe_load((installed / "meta/execution-environment.yml").read_text())
    needs = installed / meta["dependencies"]["python"]
    run([core / "bin/python", "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "--requirement", needs.resolve(), *args.lab_python], env=env)
    lab = args.work / "lab-collections"
    shutil.rmtree(lab, ignore_errors=True)
    if args.lab_collection:
        packs = dependency_packs({fqcn: "*" for fqcn in args.lab_collection}, bundle_root(), args.work / "packs")
        run([core / "bin/ansible-galaxy", "collection", "install", "--offline", "--force",
             "--collections-path", lab.resolve(), *[p.resolve() for p in packs]], env=env)
    print(f"install_check: {core} is ready to converge from {collections} "
          f"(lab: {', '.join(args.lab_collection + args.lab_python) or 'nothing'})")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--core", required=True, type=Path, help="venv with ansible-core only")
    parser.add_argument("--work", required=True, type=Path, help="scratch folder (packs are kept)")
    parser.add_argument("--introspect", action="store_true",
                        help="also check that ansible-builder reads the collection's execution environment needs")
    parser.add_argument("--for-converge", action="store_true",
                        help="also install the collection's Python needs into the venv, and the lab's")
    parser.add_argument("--lab-collection", action="append", default=[], metavar="FQCN",
                        help="a collection the lab needs, installed into DIR/lab-collections (--for-converge)")
    parser.add_argument("--lab-python", action="append", default=[], metavar="PACKAGE",
                        help="a Python package the lab needs, installed into the venv (--for-converge)")
    parser.add_argument("artifact", type=Path)
    args = parser.parse_args(argv)

    deps = artifact_manifest(args.artifact).get("dependencies") or {}
    packs = dependency_packs(deps, bundle_root(), args.work / "packs")
    collections = args.work / "collections"
    shutil.rmtree(collections, ignore_errors=True)

    # Nothing of the checkout or of this Python's bundle may leak in: no
    # ansible.cfg, only the folder installed here.
    config = args.work / "ansible.cfg"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text("[defaults]\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env.update(
        ANSIBLE_CONFIG=str(config.resolve()),
        ANSIBLE_COLLECTIONS_PATH=str(collections.resolve()),
        ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false",
        ANSIBLE_ROLES_PATH=str((args.work / "no-roles").resolve()),
        ANSIBLE_NOCOLOR="1",
    )
    core = args.core.resolve()
    run(
        [core / "bin/ansible-galaxy", "collection", "install", "--offline", "--force",
         "--collections-path", collections.resolve(), args.artifact.resolve(), *[p.resolve() for p in packs]],
        env=env,
    )
    run([core / "bin/ansible-galaxy", "collection", "list", "--collections-path", collections.resolve()], env=env)
    inventory = collections / "ansible_collections/hapair/stack/inventories/example"
    run(
        [core / "bin/ansible-playbook", "--syntax-check", "-i", inventory.resolve(), "hapair.stack.site"],
        env=env,
        cwd=args.work,
    )
    if args.introspect:
        check_ee_metadata(collections)
    if args.for_converge:
        prepare_converge(core, collections, args, env)
    print(f"install_check: {args.artifact.name} installs with {', '.join(sorted(deps)) or 'no dependencies'} "
          f"into ansible-core alone, and hapair.stack.site passes its syntax check")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
