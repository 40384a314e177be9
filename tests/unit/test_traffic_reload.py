"""Config changes reload keepalived and Nginx; nothing in their roles restarts keepalived.

A keepalived restart drops every VIP for a moment (the stopping daemon sends
a priority-0 advert and the peer takes over); a reload (SIGHUP) keeps them.
"""

from pathlib import Path

import pytest
import yaml

ROLES = Path(__file__).resolve().parents[2] / "roles"


def tasks(role):
    for path in sorted((ROLES / role).glob("*/*.yml")):
        if path.parent.name in ("tasks", "handlers"):
            for task in yaml.safe_load(path.read_text()) or []:
                yield path, task


@pytest.mark.parametrize(("role", "listen"), [("keepalived", "keepalived config changed"), ("nginx", "nginx config changed")])
def test_config_changes_reload(role, listen):
    handlers = yaml.safe_load((ROLES / role / "handlers" / "main.yml").read_text())
    (handler,) = [h for h in handlers if h.get("listen") == listen]
    assert handler["ansible.builtin.systemd_service"]["state"] == "reloaded"
    notifiers = [t for _unused, t in tasks(role) if t.get("notify") == listen]
    assert notifiers and all("validate" in next(v for k, v in t.items() if k.startswith("ansible.builtin.template")) for t in notifiers)


def test_nothing_restarts_keepalived():
    for path, task in tasks("keepalived"):
        module = task.get("ansible.builtin.systemd_service") or task.get("ansible.builtin.service") or {}
        assert module.get("state") != "restarted", f"{path}: {task.get('name')}"
