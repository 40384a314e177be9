"""Fixtures shared by the scenario's tests."""

import json
import os
import subprocess

import pytest


@pytest.fixture(scope="session")
def inventory():
    """The scenario's inventory as `ansible-inventory --list` prints it."""
    source = os.path.join(os.environ["MOLECULE_SCENARIO_DIRECTORY"], "inventory")
    out = subprocess.run(
        ["ansible-inventory", "--inventory", source, "--list"], check=True, capture_output=True, text=True
    ).stdout
    return json.loads(out)
