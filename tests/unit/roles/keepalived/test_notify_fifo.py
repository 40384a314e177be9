"""keepalived's notify FIFO reader (roles/keepalived/templates/keepalived-notify.sh.j2),
rendered and run against a real FIFO, the way keepalived runs it: the state
files follow the lines in the order they were written, however fast they come.
Its life under keepalived itself is checked in Molecule."""

import json
import os
import shutil
import subprocess

import pytest

pytestmark = pytest.mark.skipif(not shutil.which("logger"), reason="needs logger (util-linux)")


@pytest.fixture
def reader(tmp_path, render_script):
    """Start the reader on a FIFO; yield a function that writes lines and waits for the reader to end."""
    state_dir = tmp_path / "vrrp"
    state_dir.mkdir()
    script = render_script("keepalived", "keepalived-notify.sh.j2",
                           keepalived_script_user="nobody", keepalived_state_dir=str(state_dir))
    fifo = tmp_path / "notify.fifo"
    os.mkfifo(fifo)
    proc = subprocess.Popen([str(script), str(fifo)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def feed(*lines):
        with open(fifo, "w", encoding="ascii") as handle:
            for line in lines:
                handle.write(line + "\n")
        _unused, err = proc.communicate(timeout=30)  # end of file: the writer closed
        assert proc.returncode == 0, err
        return {p.stem: json.loads(p.read_text()) for p in state_dir.glob("*.state")}

    yield feed
    if proc.poll() is None:
        proc.kill()


def test_a_burst_of_changes_leaves_the_last_state(reader):
    burst = []
    for _unused in range(50):
        burst += ['INSTANCE "web" MASTER 100', 'INSTANCE "web" BACKUP 100']
    states = reader(*burst, 'INSTANCE "db" MASTER 90')
    assert states["web"]["state"] == "BACKUP" and states["web"]["previous"] == "MASTER"
    assert states["db"] == {**states["db"], "instance": "db", "kind": "INSTANCE", "state": "MASTER",
                            "previous": "", "priority": 90}
    assert states["web"]["since"] > 0 and states["web"]["since_iso"].endswith("Z")


def test_odd_lines_are_ignored(reader):
    states = reader(
        'INSTANCE "web" MASTER 100',
        'VS "192.0.2.1:80" UP 1',               # a checker's line: not VRRP's
        'INSTANCE "bad name" BACKUP 100',       # a name the state files cannot hold
        'INSTANCE "../x" BACKUP 100',
        'INSTANCE "web" master; 100',
        'INSTANCE "web" FAULT notanumber',
    )
    assert sorted(states) == ["web"]
    assert states["web"]["state"] == "FAULT" and states["web"]["priority"] == 0


def test_an_event_that_is_not_a_state_leaves_the_state_alone(reader):
    # keepalived 2.3 also writes MASTER_RX_LOWER_PRI when a MASTER hears a
    # peer of lower priority (after a brief double MASTER): still MASTER.
    states = reader('INSTANCE "web" MASTER 150', 'INSTANCE "web" MASTER_RX_LOWER_PRI 150')
    assert states["web"]["state"] == "MASTER" and states["web"]["previous"] == ""
