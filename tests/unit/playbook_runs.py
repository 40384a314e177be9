"""How the unit tests run ansible-playbook on the controller.

The same tests run from the checkout (pytest) and from a copy of the
collection laid out as ansible_collections/hapair/stack (ansible-test units,
see the Makefile). Whichever it is, a playbook run by a test sees this copy
as hapair.stack and no other (an installed one elsewhere may be older), with
the configuration the test gives it and nothing of the runner's own
ANSIBLE_* variables (ansible-test sets some, such as an empty inventory and
host pattern mismatches as errors), and keeps its temporary files in the
test's own directory.
"""

import os
import shutil
import sys
from pathlib import Path

# The collection's files: the checkout, or ansible-test's copy of them.
COLLECTION = Path(__file__).resolve().parents[2]


def collections_path(root=COLLECTION):
    """The collections path holding the hapair.stack whose files are ROOT:
    the tree ROOT is in when it is laid out as a collection
    (ansible_collections/hapair/stack), else the checkout's link that
    `make deps` makes (.collections)."""
    if root.parts[-3:] == ("ansible_collections", "hapair", "stack"):
        return root.parents[2]
    return root / ".collections"


COLLECTIONS_PATH = collections_path()

# The one beside this Python (the venv's), else the one on PATH.
ANSIBLE_PLAYBOOK = next(
    (str(p) for p in [Path(sys.executable).parent / "ansible-playbook"] if p.exists()),
    shutil.which("ansible-playbook") or "ansible-playbook",
)


def ansible_env(work, **settings):
    """The environment of an ansible-playbook run whose temporary files go
    under WORK; SETTINGS are the test's own ANSIBLE_* variables."""
    assert (COLLECTIONS_PATH / "ansible_collections" / "hapair" / "stack").is_dir(), (
        f"no hapair.stack under {COLLECTIONS_PATH} (in the checkout: make deps)")
    env = {name: value for name, value in os.environ.items() if not name.startswith("ANSIBLE_")}
    env.update(
        ANSIBLE_CONFIG=str(COLLECTION / "ansible.cfg"),
        ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS_PATH),
        ANSIBLE_LOCAL_TEMP=str(Path(work) / "tmp"),
        ANSIBLE_HOME=str(Path(work) / "home"),
        ANSIBLE_RETRY_FILES_ENABLED="0",
    )
    env.update(settings)
    return env
