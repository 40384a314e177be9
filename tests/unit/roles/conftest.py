"""Shared by the tests of roles' files: templates rendered as Ansible would."""

from pathlib import Path

import jinja2
import pytest

ROLES = Path(__file__).resolve().parents[3] / "roles"


@pytest.fixture
def render_script(tmp_path):
    """render(role, template, **variables) -> an executable script in tmp_path,
    rendered strictly (an undefined variable fails) with the filters the
    roles' script templates use."""
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    env.filters["comment"] = lambda text: "# " + text
    env.filters["quote"] = lambda text: "'" + str(text).replace("'", "'\\''") + "'"

    def render(role, template, **variables):
        source = ROLES / role / "templates" / template
        script = tmp_path / source.name.removesuffix(".j2")
        script.write_text(env.from_string(source.read_text()).render(ansible_managed="managed", **variables))
        script.chmod(0o755)
        return script

    return render
