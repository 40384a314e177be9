"""Unit tests of tools/argspec.py, which keeps specs, defaults and README in step."""

import textwrap

import argspec


def make_role(root, name, defaults, spec):
    role = root / name
    (role / "tasks").mkdir(parents=True)
    (role / "tasks" / "main.yml").write_text("---\n[]\n")
    (role / "defaults").mkdir()
    (role / "defaults" / "main.yml").write_text(textwrap.dedent(defaults))
    (role / "meta").mkdir()
    (role / "meta" / "argument_specs.yml").write_text(textwrap.dedent(spec))
    return role


GOOD_SPEC = """\
    argument_specs:
      main:
        short_description: A role
        options:
          demo_port:
            type: int
            description: The port.
          hapair_pair_group:
            type: str
            required: true
            description: The pair's group.
    """


def test_a_role_in_step_has_no_problems(tmp_path):
    role = make_role(tmp_path, "demo", "demo_port: 80\n", GOOD_SPEC)
    assert argspec.role_problems(role) == []
    assert argspec.check(tmp_path) == 0


def test_a_default_without_option_is_reported(tmp_path):
    role = make_role(tmp_path, "demo", "demo_port: 80\ndemo_extra: 1\n", GOOD_SPEC)
    assert argspec.role_problems(role) == ["demo: default 'demo_extra' is not an option in meta/argument_specs.yml"]


def test_an_own_option_without_default_is_reported(tmp_path):
    role = make_role(tmp_path, "demo", "{}\n", GOOD_SPEC)
    assert argspec.role_problems(role) == [
        "demo: option 'demo_port' has no default in defaults/main.yml and is not required"
    ]


def test_options_need_type_and_description(tmp_path):
    spec = GOOD_SPEC.replace("            type: int\n", "").replace("            description: The port.\n", "")
    role = make_role(tmp_path, "demo", "demo_port: 80\n", spec)
    assert set(argspec.role_problems(role)) == {
        "demo: option 'demo_port' has no type",
        "demo: option 'demo_port' has no description",
    }


def test_a_missing_spec_is_reported(tmp_path):
    role = make_role(tmp_path, "demo", "demo_port: 80\n", GOOD_SPEC)
    (role / "meta" / "argument_specs.yml").unlink()
    assert argspec.role_problems(role) == ["demo: meta/argument_specs.yml is missing"]
    assert argspec.check(tmp_path) == 1


def test_readme_reference_is_written_and_checked(tmp_path):
    roles = tmp_path / "roles"
    make_role(roles, "demo", "demo_port: 80\n", GOOD_SPEC)
    readme = tmp_path / "README.md"
    readme.write_text(f"# Title\n\n{argspec.BEGIN}\nold\n{argspec.END}\n\nTail\n")
    assert argspec.readme(roles, readme, check_only=True) == 1
    assert argspec.readme(roles, readme, check_only=False) == 0
    text = readme.read_text()
    assert "| `demo_port` | int | `80` | The port. |" in text
    assert "| `hapair_pair_group` | str | required | The pair's group. |" in text
    assert text.startswith("# Title\n") and text.endswith("\n\nTail\n")
    assert argspec.readme(roles, readme, check_only=True) == 0


def test_the_collection_roles_are_in_step():
    from pathlib import Path

    roles = Path(__file__).resolve().parents[2] / "roles"
    assert [p for r in argspec.roles(roles) for p in argspec.role_problems(r)] == []
