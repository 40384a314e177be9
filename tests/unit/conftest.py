"""Shared by all unit tests: runs that many tests read, made once.

Some tests read one shared run of ansible-playbook (an inventory with every
case in it, one run): under pytest alone that is a fixture of module scope.
ansible-test units runs each test in a fork of its own (its ansible_forked
plugin), which takes a fixture's value with it when it ends, so every test
would make the run again; and with pytest-xdist each worker would make it
once more. The `shared_run` fixture keeps such a run's result in a directory
of the whole test run instead, made before any worker or fork starts: the
first test that needs it makes the run while the others wait (a lock), then
each reads the result. A run that failed is kept as its failure, so the
tests that read it fail at once rather than each making it again.
"""

import fcntl
import pickle
import shutil
import tempfile
import traceback
from pathlib import Path

import pytest

RUNS = pytest.StashKey[Path]()
WORKER_INPUT = "hapair_shared_runs"


def pytest_configure(config):
    given = getattr(config, "workerinput", {}).get(WORKER_INPUT)
    config.stash[RUNS] = Path(given) if given else Path(tempfile.mkdtemp(prefix="hapair-shared-runs-"))


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node):
    """pytest-xdist: each worker uses the directory of the process that started it."""
    node.workerinput[WORKER_INPUT] = str(node.config.stash[RUNS])


def pytest_unconfigure(config):
    if not hasattr(config, "workerinput"):
        shutil.rmtree(config.stash[RUNS], ignore_errors=True)


@pytest.fixture(scope="session")
def shared_run(request):
    """shared_run(name, make) -> what make() returns (picklable), made once
    per test run for NAME."""
    runs = request.config.stash[RUNS]
    known = {}

    def get(name, make):
        if name not in known:
            kept = runs / f"{name}.pickle"
            with open(runs / f"{name}.lock", "w", encoding="utf-8") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                if not kept.exists():
                    try:
                        outcome = ("made", make())
                    except Exception as exc:  # kept for the other tests, raised here as it was
                        kept.write_bytes(pickle.dumps(("failed", "".join(traceback.format_exception(exc)))))
                        raise
                    kept.write_bytes(pickle.dumps(outcome))
            known[name] = pickle.loads(kept.read_bytes())
        status, value = known[name]
        if status == "failed":
            raise AssertionError(f"the shared run {name} failed in an earlier test:\n{value}")
        return value

    return get
